"""Dates the way Unleashed writes and reads them.

Responses carry every instant as ``"/Date(1473116400000)/"``: epoch milliseconds in UTC
(the .NET JSON form; an optional ``+hhmm`` suffix only says which zone the server had in
mind, the milliseconds are UTC regardless, so it is ignored). List filters
(``modifiedSince``, ``startDate``, ``endDate``) take ``YYYY-MM-DD`` or
``YYYY-MM-DDTHH:MM:SS``, read as UTC.

Everything here works with timezone-aware datetimes only: a naive one is refused rather
than guessed, because a guessed zone silently shifts an incremental sync window.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_WIRE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


def parse_wire_date(value: str) -> datetime:
    """``"/Date(ms)/"`` (or an ISO 8601 string, which some write paths echo) as an aware UTC
    datetime. A naive ISO string is taken as UTC, which is what Unleashed means by it.
    Raises ``ValueError`` for anything else."""
    text = value.strip()
    match = _WIRE.match(text)
    if match:
        # timedelta arithmetic, not fromtimestamp(): exact to the millisecond and fine for
        # dates before 1970, which some stand-in records carry.
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an Unleashed date: {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def to_wire_date(moment: datetime) -> str:
    """An aware datetime in the JSON form Unleashed reads in request bodies."""
    _require_aware(moment, "to_wire_date")
    delta = moment.astimezone(UTC) - _EPOCH
    ms = delta // timedelta(milliseconds=1)
    return f"/Date({ms})/"


def format_filter_date(moment: datetime | date) -> str:
    """A list filter value: ``YYYY-MM-DDTHH:MM:SS`` in UTC for an aware datetime,
    ``YYYY-MM-DD`` for a date. Sub-second parts are dropped (the API takes whole seconds),
    which only widens a ``modifiedSince`` window, never narrows it."""
    if isinstance(moment, datetime):
        _require_aware(moment, "format_filter_date")
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return moment.strftime("%Y-%m-%d")


def _require_aware(moment: datetime, where: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{where} needs a timezone-aware datetime, got naive {moment!r}")
