"""The webhook inbox read as the platform's event log: every event a receiver accepted,
kept with its outcome, listed, shown and replayed (``ops events``).

Replaying puts chosen events back to "pending" (attempts reset) for their processor to
apply again; every processor applies an event idempotently, so a replay of events already
applied changes nothing. An event refused at receipt (stored "failed" with no attempt,
e.g. it held a NUL character) is never replayed: its stored payload is not what was sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, not_, select, true, update

from masterops.db.tables import webhook_inbox

STATUSES = ("pending", "processed", "failed")
#: Sources with a processor, hence replayable.
REPLAYABLE_SOURCES = ("hubspot", "orders")


@dataclass(frozen=True)
class EventFilter:
    since: datetime | None = None
    business_id: str | None = None
    source: str | None = None
    status: str | None = None
    ids: Sequence[int] = ()

    def condition(self) -> ColumnElement[bool]:
        t = webhook_inbox
        parts: list[ColumnElement[bool]] = []
        if self.since is not None:
            parts.append(t.c.received_at >= self.since)
        if self.business_id is not None:
            parts.append(t.c.business_id == self.business_id)
        if self.source is not None:
            parts.append(t.c.source == self.source)
        if self.status is not None:
            parts.append(t.c.status == self.status)
        if self.ids:
            parts.append(t.c.id.in_(list(self.ids)))
        return and_(true(), *parts)


def list_events(conn: Connection, where: EventFilter, *, limit: int = 50) -> list[dict[str, Any]]:
    """Events matching ``where``, newest first."""
    t = webhook_inbox
    stmt = (
        select(t)
        .where(where.condition())
        .order_by(t.c.received_at.desc(), t.c.id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def get_event(conn: Connection, event_id: int) -> dict[str, Any] | None:
    found = conn.execute(select(webhook_inbox).where(webhook_inbox.c.id == event_id)).first()
    return None if found is None else dict(found._mapping)


def _refused_at_receipt() -> ColumnElement[bool]:
    t = webhook_inbox
    return and_(t.c.status == "failed", t.c.attempts == 0)


def replay_candidates(conn: Connection, where: EventFilter) -> list[dict[str, Any]]:
    """The events a replay of ``where`` would put back, oldest first."""
    t = webhook_inbox
    stmt = (
        select(t.c.id, t.c.source, t.c.business_id, t.c.event_id, t.c.status)
        .where(
            where.condition(),
            t.c.source.in_(REPLAYABLE_SOURCES),
            not_(_refused_at_receipt()),
        )
        .order_by(t.c.received_at, t.c.id)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def mark_for_replay(conn: Connection, ids: Sequence[int]) -> int:
    """Put ``ids`` back to pending, attempts reset; returns how many."""
    if not ids:
        return 0
    t = webhook_inbox
    result = conn.execute(
        update(t)
        .where(t.c.id.in_(list(ids)), not_(_refused_at_receipt()))
        .values(status="pending", attempts=0, error=None, processed_at=None)
    )
    return int(result.rowcount or 0)


def pending_businesses(conn: Connection, source: str) -> list[str]:
    """Businesses with pending events of ``source``."""
    t = webhook_inbox
    stmt = (
        select(t.c.business_id, func.count())
        .where(t.c.source == source, t.c.status == "pending", t.c.business_id.isnot(None))
        .group_by(t.c.business_id)
        .order_by(t.c.business_id)
    )
    return [str(r[0]) for r in conn.execute(stmt)]
