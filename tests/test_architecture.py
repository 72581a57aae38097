"""The layering of docs/architecture.md, checked on the code itself: who imports whom, module
size, and that the repository cites no document it does not contain."""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "project", "caching", "sessions", "ratelimit", "jobs", "notifications", "users",
    "observability",
)  # fmt: skip
SKIPPED_DIRS = {"var", "__pycache__", "node_modules", "out", "charts"}  # and dot directories

# Each unit may import itself and the units of lower layers (docs/architecture.md, Layers).
LAYERS: list[tuple[str, ...]] = [
    ("project.metrics",),
    ("project.redis", "project.env"),
    ("project.web", "project.startup"),
    ("project.locks", "project.events"),
    ("caching", "sessions", "ratelimit", "jobs"),
    ("notifications",),
    ("users",),
    ("observability",),
]
# The settings stand on the ground floor only; the URLconf and the entry points mount apps.
SPECIAL = {
    "project.settings": {"project.env", "project.redis"},
    "project": set(),
}
MOUNTS = {"project.urls", "project.wsgi", "project.asgi"}


def source_files(*suffixes: str) -> Iterator[Path]:
    for directory, subdirs, files in os.walk(ROOT):
        subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS and not d.startswith(".")]
        for name in files:
            path = Path(directory) / name
            if path.suffix in suffixes or name in suffixes:
                yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def unit_of(module: str) -> str | None:
    for layer in LAYERS:
        for unit in layer:
            if module == unit or module.startswith(unit + "."):
                return unit
    for special in (*SPECIAL, *MOUNTS):
        if module == special:
            return special
    return None


def layer_of(unit: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if unit in layer)


def first_party_imports(path: Path) -> set[str]:
    """Every first-party module ``path`` imports, at any depth (function-level too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        found.update(name for name in names if name.split(".")[0] in PACKAGES)
    return found


def app_modules() -> list[Path]:
    return sorted(p for p in source_files(".py") if p.relative_to(ROOT).parts[0] in PACKAGES)


def test_every_module_imports_only_its_own_unit_and_lower_layers() -> None:
    wrong = []
    for path in app_modules():
        module = module_name(path)
        unit = unit_of(module)
        assert unit is not None, f"{module} belongs to no layer of docs/architecture.md"
        if unit in MOUNTS:
            continue
        for imported in sorted(first_party_imports(path)):
            target = unit_of(imported)
            if target is None or target == unit:
                continue
            if unit in SPECIAL:
                allowed = target in SPECIAL[unit]
            else:
                allowed = target not in SPECIAL and layer_of(target) < layer_of(unit)
            if not allowed:
                wrong.append(f"{module} imports {imported}")
    assert wrong == []


def test_no_two_top_level_packages_import_each_other() -> None:
    edges: set[tuple[str, str]] = set()
    for path in app_modules():
        module = module_name(path)
        if module in MOUNTS:
            continue
        for imported in first_party_imports(path):
            source, target = module.split(".")[0], imported.split(".")[0]
            if source != target:
                edges.add((source, target))
    assert sorted((a, b) for a, b in edges if (b, a) in edges) == []


def test_the_ground_floor_imports_nothing_of_the_project() -> None:
    floor = [p for p in app_modules() if unit_of(module_name(p)) in LAYERS[0]]
    assert floor, "the ground floor moved: update LAYERS"
    for path in floor:
        own = unit_of(module_name(path))
        assert {unit_of(m) for m in first_party_imports(path)} <= {own}, path


@pytest.mark.parametrize("limit", [300])
def test_no_module_outside_bench_tests_and_migrations_is_over_the_limit(limit: int) -> None:
    long = []
    for path in source_files(".py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {"bench", "tests"} or "migrations" in parts:
            continue
        lines = len(path.read_text().splitlines())
        if lines > limit:
            long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert long == []


# A document named by path (``docs/caching.md``, ``../README.md``): not inside a URL.
DOCUMENT = re.compile(r"(?<![\w/:.-])((?:\.\./|\./)*[\w-]+(?:/[\w.-]+)*\.md)\b")
PARENT_PATH = re.compile(r"(?<![\w/.-])((?:\.\./)+[\w.-]+)")


def inside(path: Path) -> bool:
    """``path`` exists in the repository (a file beside it on this machine does not count)."""
    resolved = path.resolve()
    return resolved.is_relative_to(ROOT) and resolved.exists()


def test_no_file_cites_a_document_outside_the_repository() -> None:
    """Every ``*.md`` a file names is in the repository (beside it, at the top or in
    docs/), no relative path leads out of it, and no line carries a section sign
    (U+00A7): the citation of a numbered clause in a contract the reader cannot open."""
    cited = []
    for path in source_files(".py", ".md", ".lua", ".toml", ".txt", ".yaml", "Makefile", "run"):
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            for name in DOCUMENT.findall(line):
                if not any(inside(base / name) for base in (path.parent, ROOT, ROOT / "docs")):
                    cited.append(f"{where}: {name}")
            for relative in PARENT_PATH.findall(line):
                if not inside(path.parent / relative):
                    cited.append(f"{where}: {relative}")
            if "\u00a7" in line:
                cited.append(f"{where}: a section sign")
    assert cited == []
