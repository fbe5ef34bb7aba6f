"""Rules on whether the platform itself is working: breakers stuck open, workers gone.

- ``breaker_conditions``: per (business, service), the circuit breaker the health rounds
  recorded (``health_checks.breaker``) has been open (or half-open: still not letting
  calls through freely) since a round at least ``breaker_open_minutes`` ago: "down".
- ``worker_conditions``: the newest heartbeat of any worker (``worker_heartbeats``, which
  ``ops worker`` refreshes every minute) is older than ``worker_missing_minutes``: "down".
  Only once a worker has been seen, unless ``expect_worker`` says one must run.

``record_heartbeat`` is the worker's side of the second rule.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from masterops.alerts.rules import Condition
from masterops.config import AlertRules
from masterops.db.tables import health_checks, worker_heartbeats

#: Breaker states that do not let calls through freely.
NOT_CLOSED = ("open", "half_open")
#: Where the platform's own conditions are filed.
PLATFORM = "platform"


def breaker_conditions(conn: Connection, rules: AlertRules, now: datetime) -> list[Condition]:
    """One condition per (business, service) whose breaker a round recorded (see module)."""
    t = health_checks
    known = t.c.breaker.in_(("closed", *NOT_CLOSED))
    newest = select(func.max(t.c.id)).where(known).group_by(t.c.business_id, t.c.service)
    latest = conn.execute(
        select(t.c.business_id, t.c.service, t.c.breaker)
        .where(t.c.id.in_(newest.scalar_subquery()))
        .order_by(t.c.business_id, t.c.service)
    ).all()
    limit = timedelta(minutes=rules.breaker_open_minutes)
    found = []
    for business_id, service, breaker in latest:
        subject = f"breaker:{service}"
        if breaker not in NOT_CLOSED:
            message = f"the {service} circuit breaker is closed"
            found.append(Condition(business_id, subject, "healthy", message, now))
            continue
        pair = (t.c.business_id == business_id, t.c.service == service)
        closed_at = conn.execute(
            select(func.max(t.c.checked_at)).where(*pair, t.c.breaker == "closed")
        ).scalar()
        since = select(func.min(t.c.checked_at)).where(*pair, t.c.breaker.in_(NOT_CLOSED))
        if closed_at is not None:
            since = since.where(t.c.checked_at > closed_at)
        opened_at: datetime = conn.execute(since).scalar_one()
        open_for = now - opened_at
        minutes = int(open_for.total_seconds() // 60)
        if open_for >= limit:
            status = "down"
            message = (
                f"the {service} circuit breaker has been open for {minutes} min "
                f"(since {opened_at:%Y-%m-%d %H:%M} UTC): its calls are refused"
            )
        else:
            status = "healthy"
            message = f"the {service} circuit breaker opened {minutes} min ago"
        found.append(Condition(business_id, subject, status, message, now))
    return found


def worker_conditions(conn: Connection, rules: AlertRules, now: datetime) -> list[Condition]:
    """The one condition of the workers, or none (see module)."""
    newest = conn.execute(
        select(worker_heartbeats.c.worker_id, worker_heartbeats.c.seen_at)
        .order_by(worker_heartbeats.c.seen_at.desc())
        .limit(1)
    ).first()
    if newest is None:
        if not rules.expect_worker:
            return []
        message = "no worker has ever been seen: start `ops worker` (alerts.expect_worker)"
        return [Condition(PLATFORM, "worker", "down", message, now)]
    worker_id, seen_at = newest
    minutes = int((now - seen_at).total_seconds() // 60)
    if now - seen_at >= timedelta(minutes=rules.worker_missing_minutes):
        status = "down"
        message = (
            f"no worker has been seen for {minutes} min (the last: {worker_id} at "
            f"{seen_at:%Y-%m-%d %H:%M} UTC): scheduled syncs and health rounds are not running"
        )
    else:
        status, message = "healthy", f"worker {worker_id} was seen {minutes} min ago"
    return [Condition(PLATFORM, "worker", status, message, now)]


#: alert_history.service is 64 characters; an executor id (hostname + name) may be longer.
_SUBJECT_LENGTH = 64


def worker_subject(worker_id: str) -> str:
    """The alert subject of one worker: ``worker:<executor id>``, shortened (with a hash
    that keeps it distinct) when it would not fit the column."""
    subject = f"worker:{worker_id}"
    if len(subject) <= _SUBJECT_LENGTH:
        return subject
    digest = hashlib.sha256(worker_id.encode()).hexdigest()[:8]
    return f"{subject[: _SUBJECT_LENGTH - 9]}~{digest}"


def takeover_conditions(conn: Connection, now: datetime) -> list[Condition]:
    """One condition per worker whose jobs a live worker took over after it went silent
    while running (``jobs/takeover.py``): "degraded" until it heartbeats again, then
    "healthy" (its recovery). A worker stopped cleanly and taken over is no incident."""
    t = worker_heartbeats
    rows = conn.execute(
        select(
            t.c.worker_id, t.c.seen_at, t.c.taken_over_by, t.c.taken_over_at, t.c.taken_over_jobs
        )
        .where(t.c.taken_over_at.is_not(None))
        .order_by(t.c.worker_id)
    ).all()
    found = []
    for worker_id, seen_at, by, at, jobs in rows:
        subject = worker_subject(worker_id)
        if seen_at > at:
            message = f"worker {worker_id} is back (seen {seen_at:%Y-%m-%d %H:%M:%S} UTC)"
            found.append(Condition(PLATFORM, subject, "healthy", message, now))
            continue
        message = (
            f"worker {worker_id} went silent (last seen {seen_at:%Y-%m-%d %H:%M:%S} UTC); "
            f"{by} took over its {jobs or 0} unfinished job(s) at {at:%H:%M:%S} UTC"
        )
        found.append(Condition(PLATFORM, subject, "degraded", message, now))
    return found


def record_heartbeat(
    conn: Connection,
    worker_id: str,
    *,
    host: str,
    pid: int,
    started_at: datetime,
    now: datetime,
    version: str | None = None,
    state: str = "running",
) -> None:
    """Insert or refresh the worker's row: it was seen ``now`` in ``state`` ("running",
    or "stopped" by a clean exit)."""
    t = worker_heartbeats
    values = {
        "worker_id": worker_id,
        "host": host,
        "pid": pid,
        "started_at": started_at,
        "seen_at": now,
        "version": version,
        "state": state,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(t).values(values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["worker_id"],
            set_={
                "host": stmt.excluded.host,
                "pid": stmt.excluded.pid,
                "started_at": stmt.excluded.started_at,
                "seen_at": stmt.excluded.seen_at,
                "version": stmt.excluded.version,
                "state": stmt.excluded.state,
            },
        )
    )
