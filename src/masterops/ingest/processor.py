"""Processing the webhook inbox: every pending HubSpot event, oldest first, once.

Events are read in batches ordered by ``(received_at, id)``; each is then handled in its
own transaction that first re-reads the row and goes on only if it is still pending (on
PostgreSQL locking it, ``SKIP LOCKED``), so two processors never handle one event and an
event already processed is never handled again.

An event whose handler raises is rolled back and, in a second transaction, has its
``attempts`` incremented and its (redacted) error recorded; it stays pending for the next
run until ``max_attempts``, then it is "failed". A malformed event (``MalformedEvent``)
fails at once: retrying cannot fix it. A run tries each event at most once (the batches
move forward by key), so a failing event is retried by later runs, not hammered in one.
Logs of a handled event are emitted only after its transaction has committed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, or_, select, update

from masterops.db.tables import webhook_inbox
from masterops.ingest.hubspot_events import (
    SERVICE,
    SOURCE,
    EventOutcome,
    MalformedEvent,
    handle_event,
)
from masterops.observability.events import LogEvent, TelemetryHub
from masterops.observability.redaction import Redactor

INBOX_SOURCE = "hubspot"
MAX_ERROR_CHARS = 2000
Handler = Callable[[Connection, Mapping[str, Any]], EventOutcome]


@dataclass
class ProcessReport:
    """What one run did. ``outcomes`` counts (subscription type, outcome) pairs, outcome
    being an action ("cleared", "drift", "no_action"), "retry" or "failed"."""

    claimed: int = 0  # pending events read
    processed: int = 0
    retrying: int = 0  # failed this time, left pending for a later run
    failed: int = 0  # marked failed (malformed, or out of attempts)
    skipped: int = 0  # no longer pending when its turn came (another processor had it)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, subscription_type: str | None, outcome: str) -> None:
        self.outcomes[(subscription_type or "(none)", outcome)] += 1

    def rows(self) -> list[dict[str, Any]]:
        return [
            {"subscription_type": sub, "outcome": outcome, "count": n}
            for (sub, outcome), n in sorted(self.outcomes.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "processed": self.processed,
            "retrying": self.retrying,
            "failed": self.failed,
            "skipped": self.skipped,
            "outcomes": self.rows(),
        }


def process_inbox(
    engine: Engine,
    hub: TelemetryHub,
    *,
    batch_size: int = 200,
    max_attempts: int = 5,
    now: datetime | None = None,
    redactor: Redactor | None = None,
    handler: Handler = handle_event,
) -> ProcessReport:
    """Handle every pending HubSpot event once; see the module doc for the rules."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    redactor = redactor or Redactor()
    report = ProcessReport()
    t = webhook_inbox
    after: tuple[datetime, int] | None = None
    while True:
        stmt = (
            select(t.c.id, t.c.received_at)
            .where(t.c.source == INBOX_SOURCE, t.c.status == "pending")
            .order_by(t.c.received_at, t.c.id)
            .limit(batch_size)
        )
        if after is not None:
            at, last_id = after
            stmt = stmt.where(
                or_(t.c.received_at > at, and_(t.c.received_at == at, t.c.id > last_id))
            )
        with engine.connect() as conn:
            batch = [(int(r.id), r.received_at) for r in conn.execute(stmt)]
        if not batch:
            return report
        report.claimed += len(batch)
        for event_id, _ in batch:
            _process_one(engine, hub, event_id, report, max_attempts, now, redactor, handler)
        last_id, last_at = batch[-1]
        after = (last_at, last_id)


def _process_one(
    engine: Engine,
    hub: TelemetryHub,
    inbox_id: int,
    report: ProcessReport,
    max_attempts: int,
    now: datetime | None,
    redactor: Redactor,
    handler: Handler,
) -> None:
    t = webhook_inbox
    row: dict[str, Any] | None = None
    try:
        with engine.begin() as conn:
            found = conn.execute(
                select(t)
                .where(t.c.id == inbox_id, t.c.status == "pending")
                .with_for_update(skip_locked=True)
            ).first()
            if found is None:
                report.skipped += 1
                return
            row = dict(found._mapping)
            outcome = handler(conn, row)
            conn.execute(
                update(t)
                .where(t.c.id == inbox_id)
                .values(status="processed", processed_at=now or datetime.now(UTC), error=None)
            )
    except Exception as exc:
        if row is None:
            raise  # the inbox itself could not be read: not this event's fault
        _record_failure(engine, hub, row, exc, report, max_attempts, redactor)
        return
    report.processed += 1
    report.count(row.get("subscription_type"), outcome.action)
    for log in outcome.logs:
        hub.emit(log)


def _record_failure(
    engine: Engine,
    hub: TelemetryHub,
    row: Mapping[str, Any],
    exc: Exception,
    report: ProcessReport,
    max_attempts: int,
    redactor: Redactor,
) -> None:
    t = webhook_inbox
    attempts = int(row.get("attempts") or 0) + 1
    malformed = isinstance(exc, MalformedEvent)
    final = malformed or attempts >= max_attempts
    error = redactor.text(str(exc) if malformed else f"{type(exc).__name__}: {exc}")
    error = error[:MAX_ERROR_CHARS]
    with engine.begin() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == row["id"], t.c.status == "pending")
            .values(attempts=attempts, error=error, status="failed" if final else "pending")
        )
    subscription = row.get("subscription_type")
    if final:
        report.failed += 1
        report.count(subscription, "failed")
        why = "malformed, not retried" if malformed else f"after {attempts} attempt(s)"
        message = f"webhook event {row['event_id']} ({subscription}) failed, {why}: {error}"
    else:
        report.retrying += 1
        report.count(subscription, "retry")
        message = (
            f"webhook event {row['event_id']} ({subscription}) failed "
            f"(attempt {attempts} of {max_attempts}), will be retried: {error}"
        )
    hub.emit(
        LogEvent(
            source=SOURCE,
            service=SERVICE,
            operation=f"webhook.{subscription}",
            level="error" if final else "warn",
            message=message,
            status="failed" if final else "retry",
            details={
                "inbox_id": row["id"],
                "event_id": row["event_id"],
                "object_id": row.get("object_id"),
                "attempts": attempts,
            },
            business_id=row.get("business_id"),
        )
    )


def list_events(
    conn: Connection, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Inbox rows, newest first, optionally of one status (``ops webhooks list``)."""
    t = webhook_inbox
    stmt = select(t).order_by(t.c.received_at.desc(), t.c.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    return [dict(r._mapping) for r in conn.execute(stmt)]
