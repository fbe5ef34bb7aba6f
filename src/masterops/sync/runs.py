"""The one contract of every sync: a recorded run, its tally and its result.

A sync (inventory, customers, orders, n8n executions) describes itself once in a
``SyncKind``: its entity, its LogEvent operation, and its counts (``Count``: a name, the
``sync_runs`` column it adds to, and how the summary says it). ``recorded_run`` does the
rest the same way for all of them: the lock, the ``sync_runs`` row, the watermark moved
only on success, the refusals the stages report (``common.log_refused``), the summary
event, and one ``SyncResult``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from masterops.integrations.base import BaseConnector
from masterops.observability.events import Level, LogEvent
from masterops.sync.common import collecting_refusals, parse_watermark
from masterops.sync.locks import sync_lock
from masterops.sync.pages import FULL, clear_progress, open_progress, tracking
from masterops.sync.refusals import Refusal, recording_refusals
from masterops.sync.state import RunStatus, finish_run, get_watermark, set_watermark, start_run

__all__ = ["Count", "Stages", "SyncKind", "SyncResult", "Tally", "Watermark", "recorded_run"]

#: The ``sync_runs`` column a count adds to.
Column = Literal["fetched", "written", "failed"]


@dataclass(frozen=True, slots=True)
class Count:
    """One count a sync keeps, declared once: everything else (the tally, the result,
    the ``sync_runs`` columns, the summary text, the CLI row) reads it from here."""

    name: str
    #: The ``sync_runs`` column (and ``SyncResult`` field) this count adds to, if any.
    column: Column | None = None
    #: How the summary says it, with its own separator: ", {} stock lines written";
    #: empty: not in the summary.
    says: str = ""
    #: Which part of the summary says it: "source" (what was read and stored),
    #: "hubspot" (after "; HubSpot", when HubSpot took part), or the name of a part said
    #: only when one of its counts is not 0 ("companies" of a retail business are not).
    part: str = "source"


@dataclass(frozen=True, slots=True)
class SyncKind:
    """Which sync a run is: its ``sync_runs``/``sync_state`` entity, the service it reads
    (and the LogEvent's service), the LogEvent operation, the words that open its messages
    ("inventory sync") and its counts."""

    entity: str
    operation: str
    label: str
    counts: tuple[Count, ...]
    service: str = "unleashed"
    #: How a summary opens: "<label> of <business>".
    opening: str = "{label} of {business_id}"
    #: A failed run raises (the Unleashed syncs), or is returned as a failed result
    #: (executions: its callers report it like any other run).
    raises: bool = True

    def count(self, name: str) -> Count:
        for count in self.counts:
            if count.name == name:
                return count
        raise KeyError(f"the {self.label} keeps no count {name!r}")


class Tally:
    """The counts of a run in progress, by the names its kind declares (an unknown name
    is a KeyError, not a silent new count); what a failed run records too."""

    def __init__(self, kind: SyncKind, stage: str) -> None:
        self.kind = kind
        #: The stage running now; a failure is reported as "failed in the <stage> stage".
        self.stage = stage
        self._counts = dict.fromkeys((c.name for c in kind.counts), 0)

    def __getitem__(self, name: str) -> int:
        return self._counts[self.kind.count(name).name]

    def __setitem__(self, name: str, value: int) -> None:
        self._counts[self.kind.count(name).name] = value

    def add(self, name: str, n: int = 1) -> None:
        self[name] += n

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    def column(self, column: Column) -> int:
        """The ``sync_runs`` column: the sum of the counts that add to it."""
        return sum(self._counts[c.name] for c in self.kind.counts if c.column == column)


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where the next run resumes, as the stages decide it (executions: the newest start
    time stored); ``details`` are kept beside it in ``sync_state``."""

    value: str | None
    details: Mapping[str, Any] = field(default_factory=dict)


#: A sync's own stages, given its tally and the time to read changes since (the stored
#: watermark; None for a full read). They return the watermark to move to on success,
#: or None for "when this run started".
Stages = Callable[[Tally, datetime | None], Awaitable[Watermark | None]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncResult:
    """What a finished run of any sync did. A failed Unleashed run raises instead (its
    ``sync_runs`` row says how far it got); a failed executions run is returned with
    ``status`` "failed" and its ``error``."""

    entity: str
    business_id: str
    run_id: int
    status: RunStatus
    full: bool
    fetched: int
    written: int
    failed: int
    #: Every item refused in this run (``common.log_refused``), in order.
    refused: tuple[Refusal, ...]
    #: The sync's own counts by name (``SyncKind.counts``).
    counts: Mapping[str, int]
    watermark_before: str | None
    watermark_after: str | None
    hubspot_enabled: bool
    duration_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Succeeded with no item failed (a CLI's exit code)."""
        return self.status == "succeeded" and self.failed == 0

    def to_dict(self) -> dict[str, Any]:
        # The counts flat too: the keys ``ops sync --json`` has always had.
        base = {k: v for k, v in asdict(self).items() if k not in ("counts", "refused")}
        return {
            **base,
            **self.counts,
            "details": dict(self.counts),
            "refused": [asdict(r) for r in self.refused],
        }


async def recorded_run(
    kind: SyncKind,
    source: BaseConnector,
    engine: Engine,
    *,
    business_id: str,
    full: bool,
    stages: Stages,
    first_stage: str,
    hubspot: BaseConnector | None = None,
) -> SyncResult:
    """Run ``stages`` as one recorded run of ``kind`` reading ``source`` and return its
    result.

    On success the watermark moves (to what the stages return, else to when the run
    started); on any failure it stays, the run is recorded "failed" (or "interrupted" for
    a cancellation) and the exception is re-raised (or, for a kind that does not raise,
    returned as a failed result). Raises ``SyncLocked`` when another run of the same sync
    of the same business holds its lock.
    """
    # One run at a time per (business, entity), whoever started it (the CLI, a worker):
    # two would race on the watermark and send HubSpot the same records twice. A refused
    # run raises SyncLocked before it records anything.
    with sync_lock(engine, business_id, kind.entity), collecting_refusals() as refused:
        run = _Run(kind, source, hubspot, engine, business_id, full, Tally(kind, first_stage))
        return await run.go(stages, refused)


@dataclass
class _Run:
    kind: SyncKind
    source: BaseConnector
    hubspot: BaseConnector | None
    engine: Engine
    business_id: str
    full: bool
    tally: Tally
    run_id: int = 0
    before: str | None = None
    started: float = field(default_factory=time.monotonic)

    async def go(self, stages: Stages, refused: list[Refusal]) -> SyncResult:
        # The connector's clock, not the machine's: the watermark is compared with the
        # service's dates, and tests run connector and sandbox on one virtual clock.
        started_wall = self.source.runtime.clock.now()
        kind, business_id = self.kind, self.business_id
        with self.engine.begin() as conn:
            self.before = get_watermark(conn, business_id, kind.entity)
            self.run_id = start_run(
                conn, business_id, kind.entity, full=self.full, watermark=self.before
            )
            since = None if self.full else parse_watermark(self.before)
            # Where an unfinished run of this very walk stopped (``pages``): resumed.
            progress = open_progress(
                conn,
                business_id,
                kind.entity,
                read_from=FULL if since is None else since.isoformat(),
                run_id=self.run_id,
                started=started_wall.isoformat(),
            )
        try:
            with (
                recording_refusals(self.engine, self.run_id, kind.entity),
                tracking(self.engine, progress),
            ):
                moved = await stages(self.tally, since)
            # A resumed walk moves the watermark to when its first attempt started.
            after = moved or Watermark(progress.walk_started)
            with self.engine.begin() as conn:
                clear_progress(conn, business_id, kind.entity)
                # One transaction: the watermark never moves without its run recorded.
                set_watermark(
                    conn,
                    business_id,
                    kind.entity,
                    after.value,
                    details={"run_id": self.run_id, **after.details},
                )
                self._finish(conn, "succeeded", after.value)
        except Exception as exc:
            message = self._redacted(f"{self.tally.stage} stage: {_reason(exc)}")
            self._finish_quietly("failed", message)
            self._emit(
                "error",
                "failure",
                f"{kind.label} of {business_id} failed in the {message}",
                {"run_id": self.run_id, "stage": self.tally.stage, **self.tally.counts()},
            )
            if kind.raises:
                raise
            return self._result("failed", self.before, refused, error=message)
        except BaseException:
            # Cancelled or interrupted (Ctrl-C): not a failure of the services. A process
            # killed outright leaves "running", which the next start_run marks interrupted.
            self._finish_quietly("interrupted", f"interrupted in the {self.tally.stage} stage")
            raise
        outcome = self._result("succeeded", after.value, refused)
        level: Level = "warn" if outcome.failed else "info"
        self._emit(
            level, "success" if outcome.ok else "partial", self._summary(outcome), outcome.to_dict()
        )
        return outcome

    def _result(
        self,
        status: RunStatus,
        watermark: str | None,
        refused: list[Refusal],
        *,
        error: str | None = None,
    ) -> SyncResult:
        return SyncResult(
            entity=self.kind.entity,
            business_id=self.business_id,
            run_id=self.run_id,
            status=status,
            full=self.full,
            fetched=self.tally.column("fetched"),
            written=self.tally.column("written"),
            failed=self.tally.column("failed"),
            refused=tuple(refused),
            counts=self.tally.counts(),
            watermark_before=self.before,
            watermark_after=watermark,
            hubspot_enabled=self.hubspot is not None,
            duration_ms=(time.monotonic() - self.started) * 1000.0,
            error=error,
        )

    def _summary(self, result: SyncResult) -> str:
        """ "<label> of <business>: <what was read and stored>; HubSpot <what was sent>"."""

        counts = self.kind.counts

        def said(part: str) -> str:
            return "".join(c.says.format(result.counts[c.name]) for c in counts if c.part == part)

        opening = self.kind.opening.format(label=self.kind.label, business_id=self.business_id)
        text = f"{opening}: {said('source')}"
        if result.hubspot_enabled:
            text += f"; HubSpot {said('hubspot')}"
        for part in dict.fromkeys(c.part for c in counts if c.part not in ("source", "hubspot")):
            if any(result.counts[c.name] for c in counts if c.part == part):
                text += said(part)
        return text

    def _redacted(self, text: str) -> str:
        """``text`` with every secret of both connectors masked (it goes into sync_runs)."""
        redactor = self.source.redactor
        if self.hubspot is not None:
            redactor = redactor.with_secrets(self.hubspot.redactor.secrets)
        return redactor.text(text)

    def _finish(
        self,
        conn: Connection,
        status: RunStatus,
        watermark: str | None,
        error_message: str | None = None,
    ) -> None:
        finish_run(
            conn,
            self.run_id,
            status,
            fetched=self.tally.column("fetched"),
            written=self.tally.column("written"),
            failed=self.tally.column("failed"),
            watermark=watermark,
            error_message=error_message,
            details={"stage": self.tally.stage, **self.tally.counts()},
        )

    def _finish_quietly(self, status: RunStatus, message: str) -> None:
        # Recording the failure must not hide it: if the database is what failed, the
        # original error is the one worth raising (and the row stays "running", which the
        # next run marks interrupted).
        with contextlib.suppress(Exception), self.engine.begin() as conn:
            self._finish(conn, status, self.before, message)

    def _emit(self, level: Level, status: str, message: str, details: dict[str, Any]) -> None:
        self.source.runtime.hub.emit(
            LogEvent(
                source="sync",
                service=self.kind.service,
                operation=self.kind.operation,
                level=level,
                status=status,
                message=message,
                details=details,
                duration_ms=(time.monotonic() - self.started) * 1000.0,
                business_id=self.business_id,
            )
        )


def _reason(exc: Exception) -> str:
    """What ended a run, in one line: a database error by the driver's own first line
    (SQLAlchemy's text adds the statement and its parameters, which may hold records)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        lines = str(exc.orig).strip().splitlines()
        return f"database error: {lines[0] if lines else type(exc.orig).__name__}"
    return str(exc) or type(exc).__name__
