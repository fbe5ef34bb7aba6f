"""Dates the way Unleashed writes and reads them.

In JSON every instant is ``"/Date(1473116400000)/"``: epoch milliseconds, UTC.
Query filters (``modifiedSince``, ``startDate``, ``endDate``) take
``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SS`` and are read as UTC. Request bodies
may carry either form.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

DAY_MS = 86_400_000

_WIRE_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")
_FILTER_FORMATS = ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f")


def to_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (a naive one is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def wire_date(ms: int | None) -> str | None:
    """The JSON form: ``/Date(ms)/``, or ``None`` for a missing date."""
    return None if ms is None else f"/Date({ms})/"


def day_of(ms: int) -> int:
    """The UTC day number of an instant: what day-granular filters compare."""
    return ms // DAY_MS


def parse_filter_date(text: str) -> datetime:
    """A filter value as an aware UTC datetime; ``ValueError`` when it is neither form."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1]
    for fmt in _FILTER_FORMATS:
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"'{text}' is not a date of the form YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")


def has_time(text: str) -> bool:
    return "T" in text


def parse_body_date(value: object) -> int:
    """A date from a request body (``/Date(ms)/`` or ISO) as epoch milliseconds."""
    if not isinstance(value, str):
        raise ValueError(f"a date must be a string, got {value!r}")
    match = _WIRE_DATE.match(value.strip())
    if match:
        return int(match.group(1))
    return to_ms(parse_filter_date(value))


def start_of_day(moment: datetime) -> datetime:
    utc = moment.astimezone(UTC)
    return datetime.combine(utc.date(), datetime.min.time(), tzinfo=UTC)


def first_of_next_month(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after ``moment``: when a monthly quota resets."""
    utc = moment.astimezone(UTC)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def month_key(moment: datetime) -> tuple[int, int]:
    utc = moment.astimezone(UTC)
    return utc.year, utc.month


def date_day_number(day: date) -> int:
    return (day - date(1970, 1, 1)).days
