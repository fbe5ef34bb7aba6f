"""When a scheduled report is due: pure functions of a clock reading, no database.

A report fires at ``at`` (e.g. 07:00) on the wall clock of its business, every day
(daily) or on one weekday (weekly). DBOS's schedules are cron in UTC, so a UTC cron for
"07:00 Melbourne" would be an hour off for half the year; instead a frequent tick (every
``TICK_MINUTES``, in UTC) asks ``due_periods`` which reports have reached their fire time.
Fire times are computed per local day with ``zoneinfo``: on a day that springs forward
or falls back the local 07:00 is still one instant, so each local day fires once. A wall
time that does not exist that day (inside a spring-forward gap) fires at the same
distance after the gap's start; one that exists twice (a fall-back) fires the first time.

A report whose fire time has passed is still due for ``CATCH_UP`` (a worker that was down
at 07:00 sends it when it comes back); which periods were already sent is the caller's
knowledge (``report_deliveries``), not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from masterops.config import WEEKDAYS
from masterops.reports.periods import Period, ReportKind

#: The tick's period. 15 minutes divides every UTC offset in use (+5:45, +9:30, ...), so
#: with the tick on the quarter hours a report at HH:00/15/30/45 local fires on time.
TICK_MINUTES = 15
#: How long after its fire time a report not yet sent is still sent.
CATCH_UP = timedelta(hours=12)


def clock_time(text: str) -> time:
    """``"07:00"`` -> ``time(7, 0)`` (the configuration has validated it)."""
    hours, _, minutes = text.partition(":")
    return time(int(hours), int(minutes))


def fire_time(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant the local clock of ``zone`` reads ``at`` on ``day`` (see module)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _fires_on(day: date, weekday: int | None) -> bool:
    return weekday is None or day.weekday() == weekday


def next_fire_time(
    after: datetime, at: time, zone: ZoneInfo, *, weekday: int | None = None
) -> datetime:
    """The first fire instant strictly after ``after``: daily, or on ``weekday`` only
    (0 = Monday)."""
    day = after.astimezone(zone).date() - timedelta(days=1)
    while True:
        if _fires_on(day, weekday):
            moment = fire_time(day, at, zone)
            if moment > after:
                return moment
        day += timedelta(days=1)


def last_fire_time(
    now: datetime, at: time, zone: ZoneInfo, *, weekday: int | None = None
) -> tuple[date, datetime]:
    """The latest (local day, fire instant) at or before ``now``."""
    day = now.astimezone(zone).date() + timedelta(days=1)
    while True:
        if _fires_on(day, weekday):
            moment = fire_time(day, at, zone)
            if moment <= now:
                return day, moment
        day -= timedelta(days=1)


@dataclass(frozen=True)
class DueReport:
    business_id: str
    period: Period
    fire_at: datetime


def due_period(
    kind: ReportKind,
    now: datetime,
    *,
    timezone: str,
    at: time,
    weekly_on: str = "monday",
) -> tuple[Period, datetime] | None:
    """The period a ``kind`` report fired for most recently, and when, if that was within
    ``CATCH_UP`` of ``now``. A report fired on local day F covers the day before F (daily)
    or the seven days before F (weekly)."""
    zone = ZoneInfo(timezone)
    weekday = WEEKDAYS.index(weekly_on) if kind == "weekly" else None
    day, moment = last_fire_time(now, at, zone, weekday=weekday)
    if now - moment > CATCH_UP:
        return None
    return Period.ending(kind, day - timedelta(days=1), timezone), moment
