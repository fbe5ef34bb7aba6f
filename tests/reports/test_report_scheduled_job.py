"""The scheduled reports through DBOS: the tick, run at fake clock times on both sides of
a daylight-saving change, sends each report once (two workers' ticks at the same time
included), and a report whose email failed is sent by a later tick."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from dbos import DBOS
from report_data import seed_report_day
from smtp_sink import smtp_sink
from sqlalchemy import select

from masterops.config import Config, load_config
from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import report_deliveries
from masterops.jobs.queues import register_queues
from masterops.jobs.runtime import launched
from masterops.jobs.schedules import apply_schedules, plan_schedules

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "jobs"))
from jobs_helpers import drop_system_schema


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def mail() -> Iterator[tuple[int, list[EmailMessage]]]:
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def worker(database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mail) -> Iterator[Config]:  # type: ignore[no-untyped-def]
    """One business (Teelixir, Melbourne) whose reports go to the SMTP sink, seeded with
    the known day, and DBOS launched on it. Steps rebuild the configuration from the
    environment and the folder, so both are set."""
    for key in list(os.environ):
        if key.startswith("MASTEROPS_") and key != "MASTEROPS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", database.url)
    monkeypatch.setenv("MASTEROPS_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("MASTEROPS_SMTP_PORT", str(mail[0]))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "masterops.toml").write_text(
        '[businesses.teelixir]\nservices = ["unleashed"]\n'
        '[reports]\nemail_to = ["owner@example.com"]\n'
    )
    engine = create_db_engine(database.url)
    migrate.upgrade(engine)
    seed_report_day(engine)
    engine.dispose()
    config = load_config()
    try:
        with launched(config, worker_name="test", polling_interval_s=0.01):
            yield config
    finally:
        drop_system_schema(config)


def _tick(at: datetime) -> list[dict[str, object]]:
    """One run of the reports' schedule at fake time ``at``, and the results of the
    deliveries it started (waited for)."""
    from masterops.jobs import durable

    DBOS.start_workflow(durable.scheduled_reports, at, {}).get_result()
    return [
        DBOS.retrieve_workflow(w.workflow_id).get_result()
        for w in DBOS.list_workflows(name="masterops.reports.deliver")
    ]


def _deliveries(config: Config) -> list[tuple[str, str, str, int]]:
    engine = create_db_engine(config.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            t = report_deliveries
            return [
                tuple(r)  # type: ignore[misc]
                for r in conn.execute(
                    select(t.c.kind, t.c.period, t.c.status, t.c.attempts).order_by(
                        t.c.claimed_at, t.c.kind
                    )
                )
            ]
    finally:
        engine.dispose()


def test_the_tick_sends_once_per_local_day_across_the_change(worker: Config, mail) -> None:
    _port, messages = mail
    # Saturday 4 April 07:00 AEDT (+11), then two workers' ticks at Sunday 5 April 07:00
    # AEST (+10, after the change), a tick 15 minutes later, and Monday 07:00 AEST.
    assert _tick(utc("2026-04-03T19:45")) == []  # 06:45 local: nothing due yet
    _tick(utc("2026-04-03T20:00"))
    _tick(utc("2026-04-04T21:00"))
    _tick(utc("2026-04-04T21:00"))
    _tick(utc("2026-04-04T21:15"))
    _tick(utc("2026-04-05T21:00"))
    subjects = [m["Subject"] for m in messages]
    assert subjects[:2] == [
        "[Master-Ops] Teelixir daily report: Fri 03 Apr 2026",
        "[Master-Ops] Teelixir daily report: Sat 04 Apr 2026",
    ]
    # Monday 6 April: the daily and the weekly report (started together, in any order).
    assert sorted(subjects[2:]) == [
        "[Master-Ops] Teelixir daily report: Sun 05 Apr 2026",
        "[Master-Ops] Teelixir weekly report: 30 Mar - 05 Apr 2026",
    ]
    assert sorted(_deliveries(worker)) == [
        ("daily", "2026-04-03", "sent", 1),
        ("daily", "2026-04-04", "sent", 1),
        ("daily", "2026-04-05", "sent", 1),
        ("weekly", "2026-03-30..2026-04-05", "sent", 1),
    ]
    sunday = next(m for m in messages if m["Subject"].endswith("Sun 05 Apr 2026"))
    plain = sunday.get_body(("plain",))
    assert plain is not None and "orders 2 worth 150.00 AUD" in plain.get_content()


def test_a_failed_send_is_retried_by_a_later_tick(
    worker: Config, mail, monkeypatch: pytest.MonkeyPatch
) -> None:
    _port, messages = mail
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("MASTEROPS_SMTP_PORT", str(closed))  # the steps read it: mail is down
    [failed] = _tick(utc("2026-04-04T21:00"))
    assert (failed["status"], failed["attempt"]) == ("failed", 1)
    assert _deliveries(worker) == [("daily", "2026-04-04", "failed", 1)]
    monkeypatch.setenv("MASTEROPS_SMTP_PORT", str(_port))
    results = _tick(utc("2026-04-04T21:15"))
    assert sorted((r["status"], r["attempt"]) for r in results) == [("failed", 1), ("sent", 2)]
    assert _deliveries(worker) == [("daily", "2026-04-04", "sent", 2)]
    assert [m["Subject"] for m in messages] == [
        "[Master-Ops] Teelixir daily report: Sat 04 Apr 2026"
    ]


def test_the_schedule_is_applied_only_with_somewhere_to_send(
    worker: Config, tmp_path: Path
) -> None:
    assert "reports" in [s.name for s in plan_schedules(worker)]
    register_queues(worker.businesses)
    apply_schedules(plan_schedules(worker))
    assert "reports" in {s["schedule_name"] for s in DBOS.list_schedules()}
    # The scheduler starts the tick itself (at the real time: whatever is due then).
    assert DBOS.trigger_schedule("reports").get_result() is None
    (tmp_path / "masterops.toml").write_text('[businesses.teelixir]\nservices = ["unleashed"]\n')
    os.environ.pop("MASTEROPS_SMTP_HOST")
    assert "reports" not in [s.name for s in plan_schedules(load_config())]
