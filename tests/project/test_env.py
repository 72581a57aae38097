"""The environment readers of the settings module: each malformed value names its variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_float, env_int, env_list, env_mapping


def test_booleans_read_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for text, value in [("1", True), ("yes", True), ("off", False), ("FALSE", False)]:
        monkeypatch.setenv("FLAG", text)
        assert env_bool("FLAG", not value) is value
    monkeypatch.setenv("FLAG", "")
    assert env_bool("FLAG", True) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG='maybe' is not a boolean"):
        env_bool("FLAG", True)


def test_numbers_name_the_variable_when_malformed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N", "2.5")
    assert env_float("N", 1.0) == 2.5
    with pytest.raises(ImproperlyConfigured, match=r"N='2\.5' is not an integer"):
        env_int("N", 1)
    monkeypatch.setenv("N", "x")
    with pytest.raises(ImproperlyConfigured, match="N='x' is not a number"):
        env_float("N", 1.0)


def test_lists_and_mappings_skip_blanks_and_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITEMS", " a, ,b ")
    assert env_list("ITEMS", "") == ["a", "b"]
    monkeypatch.setenv("RATES", "anon=100/min, login = 5/15m")
    assert env_mapping("RATES", "") == {"anon": "100/min", "login": "5/15m"}
    for bad in ("anon=100/min,login", "=5/min", "login="):
        monkeypatch.setenv("RATES", bad)
        with pytest.raises(ImproperlyConfigured, match="invalid RATES item"):
            env_mapping("RATES", "")
