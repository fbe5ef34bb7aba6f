"""When the scheduled reports fire: the pure fire-time functions, and a fake clock ticking
every 15 minutes across both of Melbourne's daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from masterops.reports.schedule import (
    CATCH_UP,
    TICK_MINUTES,
    due_period,
    fire_time,
    last_fire_time,
    next_fire_time,
)

MELBOURNE = ZoneInfo("Australia/Melbourne")
SEVEN = time(7, 0)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_07_00_local_either_side_of_spring_forward() -> None:
    # Sunday 4 October 2026, 02:00 -> 03:00: +10 before, +11 after.
    saturday = next_fire_time(utc("2026-10-02T12:00"), SEVEN, MELBOURNE)
    sunday = next_fire_time(saturday, SEVEN, MELBOURNE)
    monday = next_fire_time(sunday, SEVEN, MELBOURNE)
    assert [saturday, sunday, monday] == [
        utc("2026-10-02T21:00"),
        utc("2026-10-03T20:00"),
        utc("2026-10-04T20:00"),
    ]
    assert sunday - saturday == timedelta(hours=23)
    assert all(t.astimezone(MELBOURNE).time() == SEVEN for t in (saturday, sunday, monday))


def test_07_00_local_either_side_of_fall_back() -> None:
    # Sunday 5 April 2026, 03:00 -> 02:00: +11 before, +10 after.
    saturday = next_fire_time(utc("2026-04-03T12:00"), SEVEN, MELBOURNE)
    sunday = next_fire_time(saturday, SEVEN, MELBOURNE)
    assert [saturday, sunday] == [utc("2026-04-03T20:00"), utc("2026-04-04T21:00")]
    assert sunday - saturday == timedelta(hours=25)


def test_a_time_in_the_gap_and_a_time_that_happens_twice_fire_once() -> None:
    # 02:30 does not exist on 4 October: it fires at 03:30 AEDT, the same instant.
    assert fire_time(date(2026, 10, 4), time(2, 30), MELBOURNE) == utc("2026-10-03T16:30")
    # 02:30 happens twice on 5 April: the first one (still AEDT).
    assert fire_time(date(2026, 4, 5), time(2, 30), MELBOURNE) == utc("2026-04-04T15:30")


def test_weekly_fires_on_its_weekday_only() -> None:
    monday = next_fire_time(utc("2026-10-01T00:00"), SEVEN, MELBOURNE, weekday=0)
    assert monday == utc("2026-10-04T20:00")  # Monday 5 October, 07:00 AEDT
    assert next_fire_time(monday, SEVEN, MELBOURNE, weekday=0) - monday == timedelta(days=7)
    assert last_fire_time(monday, SEVEN, MELBOURNE, weekday=0) == (date(2026, 10, 5), monday)


def test_due_only_within_the_catch_up_window() -> None:
    fired = utc("2026-10-04T20:00")
    # A second before: the day before's report fired 23 h ago, past the catch-up window.
    early = due_period(
        "daily", fired - timedelta(seconds=1), timezone="Australia/Melbourne", at=SEVEN
    )
    assert early is None
    found = due_period("daily", fired + CATCH_UP, timezone="Australia/Melbourne", at=SEVEN)
    assert found is not None and found[0].key == "2026-10-04" and found[1] == fired
    late = due_period(
        "daily", fired + CATCH_UP + timedelta(minutes=1), timezone="Australia/Melbourne", at=SEVEN
    )
    assert late is None


def _simulate(start: datetime, days: int, kind: str) -> dict[str, datetime]:
    """A fake clock ticking every TICK_MINUTES; a report is sent when it is due and its
    period not sent before (what report_deliveries remembers). Period -> when sent."""
    sent: dict[str, datetime] = {}
    now = start
    while now < start + timedelta(days=days):
        found = due_period(kind, now, timezone="Australia/Melbourne", at=SEVEN)  # type: ignore[arg-type]
        if found is not None and found[0].key not in sent:
            sent[found[0].key] = now
        now += timedelta(minutes=TICK_MINUTES)
    return sent


@pytest.mark.parametrize(
    # Local midnight a few days before each change (AEST, then AEDT).
    "start",
    ["2026-09-28T14:00", "2026-03-31T13:00"],
    ids=["spring-forward", "fall-back"],
)
def test_a_fake_clock_sends_each_local_day_once_at_07_00(start: str) -> None:
    sent = _simulate(utc(start), 8, "daily")
    first_local_day = utc(start).astimezone(MELBOURNE).date()
    assert utc(start).astimezone(MELBOURNE).time() == time(0)
    # Every local day of the eight: one report, for the day before, at 07:00 local.
    expected_days = [first_local_day + timedelta(days=i) for i in range(8)]
    assert list(sent) == [(d - timedelta(days=1)).isoformat() for d in expected_days]
    for day, when in zip(expected_days, sent.values(), strict=True):
        local = when.astimezone(MELBOURNE)
        assert (local.date(), local.time()) == (day, SEVEN)
    offsets = {when.astimezone(MELBOURNE).utcoffset() for when in sent.values()}
    assert offsets == {timedelta(hours=10), timedelta(hours=11)}  # both sides of the change


def test_a_fake_clock_sends_the_weekly_report_on_mondays() -> None:
    sent = _simulate(utc("2026-09-27T14:00"), 15, "weekly")
    # From Monday 28 September, local midnight, for 15 days: three Mondays, each sending
    # the seven days before it (the change of 4 October inside the second week).
    assert list(sent) == [
        "2026-09-21..2026-09-27",
        "2026-09-28..2026-10-04",
        "2026-10-05..2026-10-11",
    ]
    assert [w.astimezone(MELBOURNE).strftime("%a %d %H:%M") for w in sent.values()] == [
        "Mon 28 07:00",
        "Mon 05 07:00",
        "Mon 12 07:00",
    ]
