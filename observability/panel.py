"""What a panel is made of: its numbers, charts and table; the window of time buckets its
counts come from; and the way numbers are written."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.safestring import SafeString

from observability import memory
from project.web import observed


@dataclass
class Panel:
    slug: str
    title: str
    numbers: list[tuple[str, str]] = field(default_factory=list)
    charts: list[SafeString] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # a table, its first row the heads
    notes: list[str] = field(default_factory=list)


class Window:
    """The last WINDOW buckets: per-second rates and totals of the counted fields."""

    def __init__(self, buckets: list[tuple[int, dict[str, int]]]) -> None:
        self.starts = [start for start, _ in buckets]
        self.buckets = [fields for _, fields in buckets]

    def total(self, name: str) -> int:
        return sum(fields.get(name, 0) for fields in self.buckets)

    def rate(self, *names: str) -> list[float | None]:
        return [sum(f.get(n, 0) for n in names) / observed.BUCKET_SECONDS for f in self.buckets]

    def ratio(self, part: str, *whole: str) -> list[float | None]:
        out: list[float | None] = []
        for fields in self.buckets:
            all_ = sum(fields.get(n, 0) for n in whole)
            out.append(100 * fields.get(part, 0) / all_ if all_ else None)
        return out

    def fields(self, prefix: str) -> list[str]:
        return sorted({name for f in self.buckets for name in f if name.startswith(prefix)})


def estimate(count: int, sample: memory.Sample) -> str:
    if sample.seen >= sample.total:
        return str(count)
    return f"~{round(count * sample.scale)}"


def size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def duration(seconds: int) -> str:
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h" if days else f"{hours}h {rest // 60}m"
