"""Readers of environment variables for the settings module: each value is checked as it
is read, so a malformed one stops start-up with a message naming the variable."""

from __future__ import annotations

import os
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured

N = TypeVar("N", int, float)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def _env_number(name: str, default: N, kind: type[N], what: str) -> N:
    value = os.environ.get(name)
    try:
        return kind(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not {what}") from None


def env_mapping(name: str, default: str) -> dict[str, str]:
    """``key=value,key=value`` → ``{key: value}``. The values are the reader's to check
    (throttle rates, for instance, by the ``ratelimit`` app's system check)."""
    mapping: dict[str, str] = {}
    for item in env_list(name, default):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"invalid {name} item {item!r}: use key=value")
        mapping[key.strip()] = value.strip()
    return mapping


def env_mailer(*, debug: bool) -> dict[str, Any]:
    """The default mailer from EMAIL_BACKEND (console with DEBUG, else SMTP) and
    EMAIL_FILE_PATH, in the shape of a ``MAILERS`` entry."""
    backend = "console" if debug else "smtp"
    path = os.environ.get("EMAIL_FILE_PATH")
    return {
        "BACKEND": os.environ.get("EMAIL_BACKEND")
        or f"django.core.mail.backends.{backend}.EmailBackend",
        "OPTIONS": {"file_path": path} if path else {},
    }


def env_logging(loggers: str) -> dict[str, Any]:
    """``LOGGING``: one plain line per record on stderr; WARNING and up from libraries, and
    from the project's ``loggers`` (names separated by spaces) at LOG_LEVEL (INFO unless
    set)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
        "root": {"handlers": ["console"], "level": "WARNING"},
        "loggers": {
            name: {"level": os.environ.get("LOG_LEVEL", "INFO")} for name in loggers.split()
        },
    }
