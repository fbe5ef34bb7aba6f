"""The span a report covers: a business's LOCAL days, as UTC instants for the queries.

A daily report covers one local day; a weekly one the seven local days ending with the
day asked for. Local midnight is found with ``zoneinfo``, so a day of 23 or 25 hours (a
daylight-saving change) is covered exactly, neither an hour short nor an hour twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args
from zoneinfo import ZoneInfo

ReportKind = Literal["daily", "weekly"]
REPORT_KINDS: tuple[ReportKind, ...] = get_args(ReportKind)
#: How many days a report spans, and how many days its trend chart shows.
SPAN_DAYS: dict[ReportKind, int] = {"daily": 1, "weekly": 7}
TREND_DAYS: dict[ReportKind, int] = {"daily": 7, "weekly": 28}


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """00:00 of ``day`` in ``zone``, as UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Period:
    """``kind`` report of local days ``first``..``last`` (inclusive) in ``timezone``."""

    kind: ReportKind
    timezone: str
    first: date
    last: date

    @classmethod
    def ending(cls, kind: ReportKind, last: date, timezone: str) -> Period:
        return cls(kind, timezone, last - timedelta(days=SPAN_DAYS[kind] - 1), last)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def key(self) -> str:
        """The period's name in ``report_deliveries`` and in workflow ids."""
        if self.kind == "daily":
            return self.first.isoformat()
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label(self) -> str:
        if self.kind == "daily":
            return self.first.strftime("%a %d %b %Y")
        return f"{self.first.strftime('%d %b')} - {self.last.strftime('%d %b %Y')}"

    @property
    def start(self) -> datetime:
        """The first instant covered (UTC)."""
        return local_midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC)."""
        return local_midnight(self.last + timedelta(days=1), self.zone)

    def trend_days(self) -> list[date]:
        """The local days of the trend chart, oldest first, ending with the period."""
        count = TREND_DAYS[self.kind]
        return [self.last - timedelta(days=count - 1 - i) for i in range(count)]


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def report_period(kind: ReportKind, timezone: str, *, day: date | None, now: datetime) -> Period:
    """The period of a report ending with local ``day`` (default: yesterday, the last
    complete day). ``ValueError`` for a day after today: nothing happened yet."""
    today = local_today(now, timezone)
    last = day if day is not None else today - timedelta(days=1)
    if last > today:
        raise ValueError(
            f"{last.isoformat()} is in the future (today is {today.isoformat()} in {timezone})"
        )
    return Period.ending(kind, last, timezone)
