"""Parsing the durations and instants operators type: ``--since 1h``, ``--older-than 30d``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_DAYS = timedelta.max.days
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h"``, ``"30d"``, ``"2w"`` → timedelta (ValueError names it)."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(
            f"{text!r} is not a duration; use a number and a unit s, m, h, d or w (e.g. 1h, 30d)"
        )
    try:
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    except OverflowError:
        raise ValueError(f"{text!r} is too long a duration (at most {_MAX_DAYS} days)") from None


def parse_instant(text: str, *, now: datetime | None = None) -> datetime:
    """A duration ago (``"1h"``) or an ISO-8601 time (naive means UTC) → aware UTC datetime."""
    now = now or datetime.now(UTC)
    if _DURATION.match(text):
        try:
            return now - parse_duration(text)
        except OverflowError:
            raise ValueError(f"{text!r} ago is before the year 1; use a shorter age") from None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration (1h, 30m, 7d) nor an ISO time (2026-11-26T10:00)"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
