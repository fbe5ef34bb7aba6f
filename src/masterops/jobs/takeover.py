"""Taking over the jobs of a dead worker.

DBOS resumes a worker's pending workflows when a process with the same executor id
starts again; nothing recovers them when that worker never comes back (its machine is
gone, it was scaled down). So every ``ops worker`` watches the others' heartbeats
(``heartbeat``): a worker of this version whose heartbeat is older than ``[workers]
takeover_after_s`` is presumed dead, and one live worker recovers its pending workflows.

Exactly one: the live workers race for a claim, a conditional update of the dead
worker's ``worker_heartbeats`` row ("taken over by me, if nobody has since it was last
seen"); the database lets one update win on PostgreSQL and on SQLite alike. The winner
recovers the workflows through DBOS (which re-enqueues each on its own queue, again
conditionally on its still being PENDING under the dead executor), logs it and runs the
alert rules (``alerts.liveness.takeover_conditions``: "degraded" until the worker beats
again). A claim whose winner died before recovering is picked up by the next worker
that finds the dead one's workflows still pending a takeover period later.

Only this module (and the worker command) calls DBOS here, through its recovery entry
point ``DBOS._recover_pending_workflows`` (dbos 3.4: the one that takes executor ids).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, or_, select, update

from masterops import __version__
from masterops.db.tables import worker_heartbeats
from masterops.observability.events import LogEvent
from masterops.operations.alerts import evaluate_alerts

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Config
    from masterops.observability.events import TelemetryHub


@dataclass(frozen=True, slots=True)
class Takeover:
    """The jobs of one silent worker recovered by this one."""

    worker_id: str
    seen_at: datetime
    #: "running" (it died) or "stopped" (it exited cleanly and never came back).
    state: str
    workflow_ids: tuple[str, ...]
    #: False: another worker claimed it first and this one finished what it left.
    claimed: bool = True


def silent_workers(engine: Engine, *, me: str, cutoff: datetime) -> list[tuple[str, datetime]]:
    """(worker id, last seen) of every other worker of this version silent since before
    ``cutoff`` and not taken over since it was last seen."""
    t = worker_heartbeats
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.worker_id, t.c.seen_at)
            .where(t.c.worker_id != me, t.c.seen_at < cutoff, _this_version(), _not_taken())
            .order_by(t.c.seen_at)
        ).all()
    return [(str(r.worker_id), r.seen_at) for r in rows]


def _this_version() -> ColumnElement[bool]:
    # DBOS recovers only workflows of this process's application version: a worker of
    # another version is left to its own kind (see the rolling upgrade in operating.md).
    t = worker_heartbeats
    return or_(t.c.version == __version__, t.c.version.is_(None))


def _not_taken() -> ColumnElement[bool]:
    t = worker_heartbeats
    return or_(t.c.taken_over_at.is_(None), t.c.taken_over_at < t.c.seen_at)


def claim(engine: Engine, worker_id: str, *, by: str, cutoff: datetime, now: datetime) -> bool:
    """Claim the silent worker ``worker_id`` for ``by``; True for the one claimant that
    wins (it is still silent and nobody took it over since it was last seen)."""
    t = worker_heartbeats
    with engine.begin() as conn:
        result = conn.execute(
            update(t)
            .where(t.c.worker_id == worker_id, t.c.seen_at < cutoff, _not_taken())
            .values(taken_over_by=by, taken_over_at=now, taken_over_jobs=0)
        )
    return result.rowcount == 1


def _record_jobs(engine: Engine, worker_id: str, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(worker_heartbeats)
            .where(worker_heartbeats.c.worker_id == worker_id)
            .values(taken_over_jobs=count)
        )


def _stale_claims(
    engine: Engine, *, me: str, cutoff: datetime
) -> list[tuple[str, datetime, datetime]]:
    """(worker id, last seen, claimed at) of workers claimed by another before ``cutoff``
    and still silent: if their workflows are still pending, the claimant died before
    recovering them."""
    t = worker_heartbeats
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.worker_id, t.c.seen_at, t.c.taken_over_at).where(
                t.c.worker_id != me,
                _this_version(),
                t.c.taken_over_at.is_not(None),
                t.c.taken_over_at >= t.c.seen_at,
                t.c.taken_over_at < cutoff,
            )
        ).all()
    return [(str(r.worker_id), r.seen_at, r.taken_over_at) for r in rows]


def _reclaim(
    engine: Engine, worker_id: str, *, by: str, claimed_at: datetime, now: datetime
) -> bool:
    """Take a stale claim over, if nobody else did since it was read."""
    t = worker_heartbeats
    with engine.begin() as conn:
        result = conn.execute(
            update(t)
            .where(t.c.worker_id == worker_id, t.c.taken_over_at == claimed_at)
            .values(taken_over_by=by, taken_over_at=now)
        )
    return result.rowcount == 1


def _pending(worker_id: str) -> list[str]:
    from dbos import DBOS

    return [
        s.workflow_id
        for s in DBOS.list_workflows(
            status="PENDING", executor_id=worker_id, app_version=__version__, load_input=False
        )
    ]


def _recover(worker_id: str) -> tuple[str, ...]:
    """Re-enqueue the worker's pending workflows (DBOS's conditional update: each
    one at most once, whoever else asks); returns their ids."""
    from dbos import DBOS

    if not _pending(worker_id):
        return ()
    handles = DBOS._recover_pending_workflows([worker_id])
    return tuple(h.get_workflow_id() for h in handles)


class TakeoverWatch:
    """What a live worker runs at each heartbeat: find silent workers, claim, recover,
    log, alert. Needs DBOS launched in this process."""

    def __init__(self, config: Config, engine: Engine, hub: TelemetryHub, me: str) -> None:
        self.config = config
        self.engine = engine
        self.hub = hub
        self.me = me

    def check(self, now: datetime | None = None) -> list[Takeover]:
        moment = now or datetime.now(UTC)
        cutoff = moment - timedelta(seconds=self.config.workers.takeover_after_s)
        done: list[Takeover] = []
        for worker_id, seen_at in silent_workers(self.engine, me=self.me, cutoff=cutoff):
            if not claim(self.engine, worker_id, by=self.me, cutoff=cutoff, now=moment):
                continue  # another live worker won it
            state = self._state(worker_id)
            try:
                ids = _recover(worker_id)
            except Exception:
                # Give the claim back: the next check (here or elsewhere) tries again.
                self._release(worker_id)
                raise
            _record_jobs(self.engine, worker_id, len(ids))
            done.append(Takeover(worker_id, seen_at, state, ids))
        for worker_id, seen_at, claimed_at in _stale_claims(self.engine, me=self.me, cutoff=cutoff):
            if not _pending(worker_id) or not _reclaim(
                self.engine, worker_id, by=self.me, claimed_at=claimed_at, now=moment
            ):
                continue
            ids = _recover(worker_id)
            _record_jobs(self.engine, worker_id, len(ids))
            done.append(Takeover(worker_id, seen_at, "running", ids, claimed=False))
        for takeover in done:
            self._log(takeover, moment)
        if any(t.claimed and t.state == "running" for t in done):
            asyncio.run(self._alert(moment))
        return done

    def _state(self, worker_id: str) -> str:
        with self.engine.connect() as conn:
            state = conn.execute(
                select(worker_heartbeats.c.state).where(worker_heartbeats.c.worker_id == worker_id)
            ).scalar()
        return str(state or "running")

    def _release(self, worker_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(worker_heartbeats)
                .where(
                    worker_heartbeats.c.worker_id == worker_id,
                    worker_heartbeats.c.taken_over_by == self.me,
                )
                .values(taken_over_by=None, taken_over_at=None, taken_over_jobs=None)
            )

    def _log(self, takeover: Takeover, now: datetime) -> None:
        silent = int((now - takeover.seen_at).total_seconds())
        how = "died" if takeover.state == "running" else "stopped"
        message = (
            f"worker {takeover.worker_id} {how} (silent for {silent} s): "
            f"{self.me} took over its {len(takeover.workflow_ids)} unfinished job(s)"
        )
        if not takeover.claimed:
            message += " (its first claimant never recovered them)"
        self.hub.emit(
            LogEvent(
                source="worker",
                service=None,
                operation="takeover",
                level="warn" if takeover.state == "running" else "info",
                message=message,
                status="taken_over",
                details={
                    "worker_id": takeover.worker_id,
                    "taken_over_by": self.me,
                    "workflow_ids": list(takeover.workflow_ids),
                    "silent_s": silent,
                },
            )
        )

    async def _alert(self, now: datetime) -> None:
        try:
            await evaluate_alerts(self.config, self.engine, self.hub, now=now)
        except Exception as exc:  # the takeover is done; the next evaluation alerts
            self.hub.emit(
                LogEvent(
                    source="alerts",
                    service=None,
                    operation="evaluate",
                    level="error",
                    message=f"alerts after a takeover could not be evaluated: {exc}",
                    status="failed",
                )
            )
