"""A live worker takes over the pending jobs of a silent one, exactly once, logged and
alerted; on SQLite and PostgreSQL, with DBOS running in this process as the live worker.

The dead worker is made the way a ``kill -9`` leaves one: its heartbeat stopped long
ago, and a job it had dequeued is PENDING under its executor id (the process topology
test, ``test_topology.py``, does it with real processes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from dbos import DBOS
from jobs_helpers import enqueue_health_round
from sqlalchemy import Engine, select, text

from masterops.config import Config
from masterops.db.engine import create_db_engine
from masterops.db.tables import alert_history, worker_heartbeats
from masterops.jobs.queues import register_queues
from masterops.jobs.runtime import executor_id, system_database
from masterops.jobs.takeover import TakeoverWatch, claim
from masterops.observability.events import LogEvent, TelemetryHub
from masterops.operations.alerts import worker_heartbeat

DEAD = "host-dead-w9"


def _left_pending_by_dead_worker(config: Config, workflow_id: str) -> None:
    """A health round enqueued, then dequeued by ``DEAD``, which died in it."""
    enqueue_health_round(config, workflow_id)
    url, schema = system_database(config)
    system = create_db_engine(url)
    table = "workflow_status" if url.startswith("sqlite") else f'"{schema}".workflow_status'
    try:
        with system.begin() as conn:
            conn.execute(
                text(
                    f"UPDATE {table} SET status = 'PENDING', executor_id = :dead "
                    "WHERE workflow_uuid = :id"
                ),
                {"dead": DEAD, "id": workflow_id},
            )
    finally:
        system.dispose()


def _heartbeat_row(engine: Engine, worker_id: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(
            select(worker_heartbeats).where(worker_heartbeats.c.worker_id == worker_id)
        ).one()
    return dict(row._mapping)


def test_a_silent_workers_job_is_taken_over_once_logged_and_alerted(dbos: Config) -> None:
    engine = create_db_engine(dbos.database_url.get_secret_value())
    events: list[LogEvent] = []
    hub = TelemetryHub()
    hub.subscribe(events.append)
    try:
        long_ago = datetime.now(UTC) - timedelta(minutes=30)
        worker_heartbeat(engine, DEAD, started_at=long_ago, now=long_ago)
        _left_pending_by_dead_worker(dbos, "job-left-by-w9")
        me = executor_id("test")
        # A worker silent for less than takeover_after_s is left alone.
        assert (
            TakeoverWatch(dbos, engine, hub, me).check(now=long_ago + timedelta(seconds=60)) == []
        )

        [takeover] = TakeoverWatch(dbos, engine, hub, me).check()
        assert takeover.worker_id == DEAD and takeover.workflow_ids == ("job-left-by-w9",)
        assert takeover.state == "running" and takeover.claimed
        register_queues(dbos.businesses)  # this worker listens to the job's queue
        result = DBOS.retrieve_workflow("job-left-by-w9").get_result()
        assert result["job"] == "health" and result["checked"] == 4
        status = DBOS.get_workflow_status("job-left-by-w9")
        assert status is not None and status.status == "SUCCESS" and status.executor_id == me

        # Recorded once; a second live worker noticing later finds nothing to do.
        row = _heartbeat_row(engine, DEAD)
        assert row["taken_over_by"] == me and row["taken_over_jobs"] == 1
        assert TakeoverWatch(dbos, engine, hub, executor_id("other")).check() == []
        [logged] = [e for e in events if e.operation == "takeover"]
        assert logged.level == "warn" and DEAD in logged.message and me in logged.message
        with engine.connect() as conn:
            alerts = conn.execute(
                select(alert_history.c.service, alert_history.c.status).where(
                    alert_history.c.business_id == "platform"
                )
            ).all()
        assert (f"worker:{DEAD}", "degraded") in [tuple(a) for a in alerts]

        # The worker comes back: the next evaluation announces its recovery.
        worker_heartbeat(engine, DEAD, started_at=datetime.now(UTC))
        from masterops.alerts.liveness import takeover_conditions

        with engine.connect() as conn:
            [condition] = takeover_conditions(conn, datetime.now(UTC))
        assert condition.status == "healthy"
    finally:
        engine.dispose()


def test_two_workers_noticing_at_once_claim_it_once(platform: Config) -> None:
    url = platform.database_url.get_secret_value()
    engines = [create_db_engine(url) for _ in range(2)]
    try:
        now = datetime.now(UTC)
        long_ago = now - timedelta(minutes=30)
        wins: list[bool] = []
        for round_ in range(5):
            dead = f"{DEAD}-{round_}"
            worker_heartbeat(engines[0], dead, started_at=long_ago, now=long_ago)
            start = threading.Barrier(2)

            def race(
                engine: Engine, me: str, dead: str = dead, start: threading.Barrier = start
            ) -> None:
                start.wait()
                cutoff = now - timedelta(minutes=5)
                wins.append(claim(engine, dead, by=me, cutoff=cutoff, now=now))

            threads = [
                threading.Thread(target=race, args=(engine, f"live-{i}"))
                for i, engine in enumerate(engines)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert sorted(wins) == [False] * 5 + [True] * 5
    finally:
        for engine in engines:
            engine.dispose()


def test_a_long_executor_id_still_fits_its_alert_subject() -> None:
    from masterops.alerts.liveness import worker_subject

    assert worker_subject("host-w1") == "worker:host-w1"
    long_a, long_b = "h" * 70 + "-w1", "h" * 70 + "-w2"
    assert len(worker_subject(long_a)) == 64
    assert worker_subject(long_a) != worker_subject(long_b)
