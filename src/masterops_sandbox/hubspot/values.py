"""How HubSpot writes and reads property values: numbers and times as strings.

Times travel either as milliseconds since the epoch ("1572480000000") or as ISO
8601 ("2019-10-30T03:30:17.883Z"); the sandbox stores datetimes in the ISO form
HubSpot returns and compares them as milliseconds.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS_PER_DAY = 86_400_000


def to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def iso_ms(ms: int) -> str:
    """HubSpot's timestamp form: ``2019-10-30T03:30:17.883Z``."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


def iso_date(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).date().isoformat()


def parse_time(value: str) -> int | None:
    """Milliseconds for an epoch-ms string, an ISO datetime or an ISO date; else None."""
    text = value.strip()
    if not text:
        return None
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return (day - _EPOCH.date()).days * _MS_PER_DAY
        return to_ms(datetime.fromisoformat(text))
    except ValueError:
        return None


def parse_number(value: str) -> float | None:
    """The value as a finite number, or None when it is not one."""
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def is_midnight(ms: int) -> bool:
    return ms % _MS_PER_DAY == 0
