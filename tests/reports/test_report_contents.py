"""A report's figures, read from a real database (SQLite and PostgreSQL) seeded with one
known local day: the day daylight saving ends in Melbourne, 25 hours long."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from report_data import DAY, at
from sqlalchemy import Engine

from masterops.reports.build import ReportInputs, build_report
from masterops.reports.model import Report
from masterops.reports.periods import Period, report_period

INPUTS = ReportInputs(
    business_id="teelixir",
    business_name="Teelixir",
    low_stock_threshold=10,
    top_products=5,
    hubspot_tier="starter",
    unleashed_account=None,
    unleashed_ceiling=15_000,
)


def _report(engine: Engine, kind: str = "daily", inputs: ReportInputs = INPUTS) -> Report:
    period = Period.ending(kind, date.fromisoformat(DAY), "Australia/Melbourne")  # type: ignore[arg-type]
    with engine.connect() as conn:
        return build_report(conn, inputs, period, now=at("2026-04-06T00:00"))


def test_the_period_is_the_local_day_of_25_hours() -> None:
    period = Period.ending("daily", date(2026, 4, 5), "Australia/Melbourne")
    assert (period.start, period.end) == (at("2026-04-04T13:00"), at("2026-04-05T14:00"))
    assert (period.end - period.start).total_seconds() == 25 * 3600
    spring = Period.ending("daily", date(2026, 10, 4), "Australia/Melbourne")
    assert (spring.end - spring.start).total_seconds() == 23 * 3600


def test_orders_by_local_day_status_and_value(seeded: Engine) -> None:
    orders = _report(seeded).orders
    # 00:30 and 23:30 local count; 23:30 the day before and 00:30 the day after do not;
    # a deleted order is listed by status but is no sale; elevate's order is not teelixir's.
    assert (orders.count, orders.value, orders.currency) == (2, 150.0, "AUD")
    assert {(s.status, s.count, s.value) for s in orders.by_status} == {
        ("Completed", 1, 100.0),
        ("Placed", 1, 50.0),
        ("Deleted", 1, 999.0),
    }
    trend = {d.day.isoformat(): d.orders for d in orders.trend}
    assert list(trend) == [f"2026-{m:02d}-{d:02d}" for m, d in
                           ((3, 30), (3, 31), (4, 1), (4, 2), (4, 3), (4, 4), (4, 5))]  # fmt: skip
    assert trend == {**dict.fromkeys(trend, 0), "2026-04-01": 1, "2026-04-04": 1, "2026-04-05": 2}


def test_top_products_low_stock_and_customers(seeded: Engine) -> None:
    report = _report(seeded)
    assert [(p.product_code, p.description, p.quantity, p.value) for p in report.top_products] == [
        ("CODE-p2", "Chaga 100g", 2.0, 90.0),
        ("CODE-p1", "Reishi 100g", 2.0, 60.0),
    ]
    # p1 is 3 + 4 across two warehouses; p4 is out of stock but obsolete: not listed.
    assert [(s.product_code, s.available) for s in report.low_stock] == [
        ("LIO-1", 0.0),
        ("REI-1", 7.0),
    ]
    assert report.low_stock_total == 2
    # c1's first order is this day; c2 ordered before; c3's only order was deleted.
    assert (report.customers.new, report.customers.ordering) == (1, 2)


def test_sync_workflow_error_and_quota_health(seeded: Engine) -> None:
    report = _report(seeded)
    assert [(s.entity, s.runs, s.failed_runs, s.refused_items, s.last_status, s.last_error)
            for s in report.syncs] == [
        ("inventory", 2, 1, 3, "failed", "boom"),
        ("orders", 1, 0, 2, "succeeded", None),
    ]  # fmt: skip
    assert [(w.workflow_name, w.executions, w.failed, round(w.success_rate, 1), w.last_error)
            for w in report.workflows] == [
        ("Order sync", 3, 1, 66.7, "node X failed"),
        ("Stock", 1, 0, 100.0, None),
    ]  # fmt: skip
    assert [(e.service, e.errors, e.last_message) for e in report.errors] == [
        ("hubspot", 2, "HTTP 502 last"),
        ("unleashed", 1, "timeout"),
    ]
    # HubSpot: calls of the local day; Unleashed: the business's calls in April (UTC).
    assert [(q.service, q.window, q.used, q.limit) for q in report.quotas] == [
        ("hubspot", "day", 3, 250_000),
        ("unleashed", "month", 2, 15_000),
    ]


def test_the_quota_ledger_counts_when_the_account_is_known(seeded: Engine) -> None:
    known = ReportInputs(**{**INPUTS.__dict__, "unleashed_account": "acct-1"})
    assert [(q.service, q.used) for q in _report(seeded, inputs=known).quotas] == [
        ("hubspot", 3),
        ("unleashed", 1234),
    ]


def test_a_weekly_report_covers_seven_local_days(seeded: Engine) -> None:
    report = _report(seeded, "weekly")
    assert (report.period.first, report.period.last) == (date(2026, 3, 30), date(2026, 4, 5))
    assert report.period.key == "2026-03-30..2026-04-05"
    # o1, o2, o4, o6 (o5 is the 6th, o3 deleted); 28 days of trend.
    assert (report.orders.count, report.orders.value) == (4, 230.0)
    assert len(report.orders.trend) == 28
    assert report.customers.new == 3  # c1, c2 (1 April), c4 (4 April)


def test_an_empty_database_gives_an_empty_report(engine: Engine) -> None:
    report = _report(engine)
    assert (report.orders.count, report.top_products, report.low_stock_total) == (0, (), 0)
    assert [d.orders for d in report.orders.trend] == [0] * 7


def test_default_day_is_yesterday_and_the_future_is_refused() -> None:
    now = datetime.fromisoformat("2026-04-05T14:30:00+00:00")  # 00:30 on the 6th in Melbourne
    assert report_period("daily", "Australia/Melbourne", day=None, now=now).first == date(
        2026, 4, 5
    )
    assert report_period("daily", "UTC", day=None, now=now).first == date(2026, 4, 4)
    with pytest.raises(ValueError, match="in the future"):
        report_period("daily", "Australia/Melbourne", day=date(2026, 4, 7), now=now)
