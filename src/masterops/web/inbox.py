"""The webhook inbox: storing accepted events idempotently, and reading them back.

A receiver calls ``store_events`` with every event of one delivery; they are written in
one transaction keyed by ``(source, event_id)``, so a redelivery (HubSpot retries a
batch it thinks failed) adds nothing and never resets a row already processed. The
count of new events is the rows the insert itself created (``RETURNING``), so it stays
exact while identical deliveries arrive at once. ``store_deliveries`` writes several
deliveries in one transaction and counts each one's new events (``group_commit.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite

from masterops.db.tables import webhook_inbox

STATUSES = ("pending", "processed", "failed")


@dataclass(frozen=True)
class InboxEvent:
    """One event as the inbox stores it; ``payload`` is the event exactly as received."""

    source: str
    event_id: str
    business_id: str | None
    subscription_type: str | None
    object_id: str | None
    occurred_at: datetime | None
    payload: dict[str, Any]
    error: str | None = None  # set: stored already "failed", never processed


@dataclass(frozen=True)
class StoreResult:
    received: int  # events in the delivery
    new: int  # events not seen before


def store_events(engine: Engine, events: Sequence[InboxEvent]) -> StoreResult:
    """Insert every event not already in the inbox, all in one transaction."""
    return store_deliveries(engine, [events])[0]


def store_deliveries(
    engine: Engine, deliveries: Sequence[Sequence[InboxEvent]]
) -> list[StoreResult]:
    """Store several deliveries in one transaction; one result per delivery, in order.

    An event is new for the first delivery of the list that holds it, and only if the
    insert itself created its row: the ``new`` counts add up to the rows created, however
    many of the deliveries (or other writers) carry the same event at once.
    """
    owner: dict[tuple[str, str], int] = {}  # event key -> the first delivery holding it
    unique: dict[tuple[str, str], InboxEvent] = {}
    for index, events in enumerate(deliveries):
        for event in events:
            key = (event.source, event.event_id)
            if key not in unique:  # a batch may repeat one
                unique[key] = event
                owner[key] = index
    new = [0] * len(deliveries)
    if unique:
        now = datetime.now(UTC)
        rows = [
            {
                "source": e.source,
                "event_id": e.event_id,
                "business_id": e.business_id,
                "subscription_type": e.subscription_type,
                "object_id": e.object_id,
                "occurred_at": e.occurred_at,
                "payload_json": e.payload,
                "received_at": now,
                "status": "pending" if e.error is None else "failed",
                "attempts": 0,
                "error": e.error,
            }
            for e in unique.values()
        ]
        t = webhook_inbox
        with engine.begin() as conn:
            # ON CONFLICT DO NOTHING: a known event keeps its status and history.
            stmt = _insert(conn)(t).on_conflict_do_nothing(index_elements=["source", "event_id"])
            created = conn.execute(stmt.returning(t.c.source, t.c.event_id), rows).all()
        for source, event_id in created:
            new[owner[(source, event_id)]] += 1
    return [
        StoreResult(received=len(events), new=count)
        for events, count in zip(deliveries, new, strict=True)
    ]


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def inbox_rows(
    conn: Connection,
    *,
    status: str | None = None,
    business_id: str | None = None,
    source: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Inbox rows, newest first, optionally of one status, business and/or source."""
    t = webhook_inbox
    stmt = select(t).order_by(t.c.received_at.desc(), t.c.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if business_id is not None:
        stmt = stmt.where(t.c.business_id == business_id)
    if source is not None:
        stmt = stmt.where(t.c.source == source)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def status_counts(conn: Connection) -> dict[str, int]:
    """Rows per status; every known status is present, with 0 when there are none."""
    counts = dict.fromkeys(STATUSES, 0)
    stmt = select(webhook_inbox.c.status, func.count()).group_by(webhook_inbox.c.status)
    for status, count in conn.execute(stmt):
        counts[str(status)] = int(count)
    return counts
