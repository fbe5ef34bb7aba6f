"""The run skeleton every Unleashed-sourced sync shares: start a recorded run, run the
sync's own stages, then record how it ended (and move the watermark only on success).

A sync keeps what is its own — its stages, its tally, its result type and its summary
text — and hands them to ``recorded_run``: one implementation of "how a sync run is
recorded", not three drifting copies.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.unleashed import UnleashedConnector
from masterops.integrations.unleashed.queries import check_page_size
from masterops.observability.events import Level, LogEvent
from masterops.sync.common import parse_watermark, redacted_message
from masterops.sync.locks import sync_lock
from masterops.sync.refusals import recording_refusals
from masterops.sync.state import RunStatus, finish_run, get_watermark, set_watermark, start_run

__all__ = ["RunTally", "Stages", "SyncKind", "SyncResult", "recorded_run"]

#: A sync's own stages, given the time to read changes since (None: read everything).
Stages = Callable[[datetime | None], Awaitable[None]]


class RunTally(Protocol):
    """The counts of a run in progress, as the skeleton records them (a failed run too)."""

    #: The stage running now; a failure is reported as "failed in the <stage> stage".
    stage: str

    @property
    def fetched(self) -> int:
        """The ``sync_runs.fetched`` column."""
        ...

    @property
    def written(self) -> int:
        """The ``sync_runs.written`` column."""
        ...

    @property
    def failed(self) -> int:
        """The ``sync_runs.failed`` column."""
        ...

    def counts(self) -> dict[str, int]:
        """Every count by name: the run's details, and the result's count fields."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    """What a finished run did; each sync's result adds its own counts. A failed run
    raises instead; its ``sync_runs`` row says how far it got."""

    business_id: str
    run_id: int
    status: RunStatus
    full: bool
    watermark_before: str | None
    watermark_after: str | None
    hubspot_enabled: bool
    hubspot_failed: int
    duration_ms: float

    @property
    def ok(self) -> bool:
        """Succeeded with no HubSpot item refused (a CLI's exit code)."""
        return self.status == "succeeded" and self.hubspot_failed == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ResultT = TypeVar("ResultT", bound=SyncResult)


@dataclass(frozen=True, slots=True)
class SyncKind:
    """Which sync a run is: its ``sync_runs``/``sync_state`` entity, the LogEvent
    operation, and the words that open its failure message ("inventory sync")."""

    entity: str
    operation: str
    label: str


async def recorded_run(
    kind: SyncKind,
    unleashed: UnleashedConnector,
    engine: Engine,
    hubspot: HubSpotConnector | None,
    *,
    business_id: str,
    full: bool,
    page_size: int,
    tally: RunTally,
    stages: Stages,
    result: Callable[..., ResultT],
    summary: Callable[[ResultT], str],
) -> ResultT:
    """Run ``stages`` as one recorded run of ``kind`` and return its ``result``.

    ``result`` is the sync's result class, built from the run's bookkeeping fields and
    ``tally.counts()``. On success the watermark moves to when the run started; on any
    failure it stays, the run is recorded "failed" (or "interrupted" for a cancellation)
    and the exception is re-raised. Raises ``SyncLocked`` when another run of the same
    sync of the same business holds its lock.
    """
    check_page_size(page_size)  # a bad size is the caller's mistake, not a failed run
    # One run at a time per (business, entity), whoever started it (the CLI, a worker):
    # two would race on the watermark and send HubSpot the same records twice. A refused
    # run raises SyncLocked before it records anything.
    with sync_lock(engine, business_id, kind.entity):
        return await _locked_run(
            kind,
            unleashed,
            engine,
            hubspot,
            business_id=business_id,
            full=full,
            tally=tally,
            stages=stages,
            result=result,
            summary=summary,
        )


async def _locked_run(
    kind: SyncKind,
    unleashed: UnleashedConnector,
    engine: Engine,
    hubspot: HubSpotConnector | None,
    *,
    business_id: str,
    full: bool,
    tally: RunTally,
    stages: Stages,
    result: Callable[..., ResultT],
    summary: Callable[[ResultT], str],
) -> ResultT:
    # The connector's clock, not the machine's: the watermark is compared with the
    # service's dates, and tests run connector and sandbox on one virtual clock.
    started_wall = unleashed.runtime.clock.now()
    started = time.monotonic()
    with engine.begin() as conn:
        before = get_watermark(conn, business_id, kind.entity)
        run_id = start_run(conn, business_id, kind.entity, full=full, watermark=before)
    since = None if full else parse_watermark(before)
    try:
        with recording_refusals(engine, run_id, kind.entity):
            await stages(since)
        after = started_wall.isoformat()
        with engine.begin() as conn:
            # One transaction: the watermark never moves without its run being recorded.
            set_watermark(conn, business_id, kind.entity, after, details={"run_id": run_id})
            _finish(conn, run_id, "succeeded", tally, watermark=after)
    except Exception as exc:
        message = redacted_message(f"{tally.stage} stage: {_reason(exc)}", unleashed, hubspot)
        _finish_quietly(engine, run_id, "failed", tally, before, message)
        _emit_summary(
            kind,
            unleashed,
            business_id,
            "error",
            "failure",
            f"{kind.label} of {business_id} failed in the {message}",
            {"run_id": run_id, "stage": tally.stage, **tally.counts()},
            started,
        )
        raise
    except BaseException:
        # Cancelled or interrupted (Ctrl-C): not a failure of the services. A process
        # killed outright leaves "running", which the next start_run marks interrupted.
        _finish_quietly(
            engine, run_id, "interrupted", tally, before, f"interrupted in the {tally.stage} stage"
        )
        raise
    outcome = result(
        business_id=business_id,
        run_id=run_id,
        status="succeeded",
        full=full,
        watermark_before=before,
        watermark_after=after,
        hubspot_enabled=hubspot is not None,
        duration_ms=(time.monotonic() - started) * 1000.0,
        **tally.counts(),
    )
    level: Level = "warn" if outcome.hubspot_failed else "info"
    _emit_summary(
        kind,
        unleashed,
        business_id,
        level,
        "success" if outcome.ok else "partial",
        summary(outcome),
        outcome.to_dict(),
        started,
    )
    return outcome


def _reason(exc: Exception) -> str:
    """What ended a run, in one line: a database error by the driver's own first line
    (SQLAlchemy's text adds the statement and its parameters, which may hold records)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"database error: {lines[0] if lines else type(exc.orig).__name__}"
    return str(exc)


def _finish(
    conn: Connection,
    run_id: int,
    status: RunStatus,
    tally: RunTally,
    *,
    watermark: str | None,
    error_message: str | None = None,
) -> None:
    finish_run(
        conn,
        run_id,
        status,
        fetched=tally.fetched,
        written=tally.written,
        failed=tally.failed,
        watermark=watermark,
        error_message=error_message,
        details={"stage": tally.stage, **tally.counts()},
    )


def _finish_quietly(
    engine: Engine,
    run_id: int,
    status: RunStatus,
    tally: RunTally,
    watermark: str | None,
    message: str,
) -> None:
    # Recording the failure must not hide it: if the database is what failed, the
    # original error is the one worth raising (and the row stays "running", which the
    # next run marks interrupted).
    with contextlib.suppress(Exception), engine.begin() as conn:
        _finish(conn, run_id, status, tally, watermark=watermark, error_message=message)


def _emit_summary(
    kind: SyncKind,
    unleashed: UnleashedConnector,
    business_id: str,
    level: Level,
    status: str,
    message: str,
    details: dict[str, Any],
    started: float,
) -> None:
    unleashed.runtime.hub.emit(
        LogEvent(
            source="sync",
            service="unleashed",
            operation=kind.operation,
            level=level,
            status=status,
            message=message,
            details=details,
            duration_ms=(time.monotonic() - started) * 1000.0,
            business_id=business_id,
        )
    )
