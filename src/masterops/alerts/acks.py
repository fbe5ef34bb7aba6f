"""``alert_acks``: an operator's "I know" about a (business, service). While an ack is
open, every alert about the pair stays quiet except its recovery; the first evaluation
that sees the pair below ``min_level`` clears the ack (and the recovery goes out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from masterops.alerts.rules import Key
from masterops.db.tables import alert_acks


@dataclass(frozen=True, slots=True)
class Ack:
    id: int
    business_id: str
    service: str
    status: str
    note: str | None
    created_at: datetime


def open_acks(conn: Connection, keys: Iterable[Key] | None = None) -> dict[Key, Ack]:
    """The open ack of each pair (of ``keys``, or every pair), newest if several."""
    t = alert_acks
    stmt = select(t).where(t.c.cleared_at.is_(None)).order_by(t.c.id)
    wanted = set(keys) if keys is not None else None
    if wanted is not None:
        if not wanted:
            return {}
        stmt = stmt.where(
            t.c.business_id.in_({b for b, _ in wanted}), t.c.service.in_({s for _, s in wanted})
        )
    found: dict[Key, Ack] = {}
    for row in conn.execute(stmt):
        key = (row.business_id, row.service)
        if wanted is None or key in wanted:
            found[key] = Ack(
                row.id, row.business_id, row.service, row.status, row.note, row.created_at
            )
    return found


def acknowledge(
    conn: Connection,
    key: Key,
    status: str,
    *,
    now: datetime,
    note: str | None = None,
    alert_id: int | None = None,
    acked_by: str | None = None,
) -> int:
    """Open an ack of ``key`` (at the ``status`` the operator acknowledges); its id."""
    result = conn.execute(
        insert(alert_acks).values(
            business_id=key[0],
            service=key[1],
            status=status,
            note=note,
            alert_id=alert_id,
            acked_by=acked_by,
            created_at=now,
        )
    )
    primary = result.inserted_primary_key
    assert primary is not None
    return int(primary[0])


def clear_acks(conn: Connection, keys: Iterable[Key], now: datetime) -> int:
    """Close the open acks of ``keys``; how many were closed."""
    closed = 0
    for business_id, service in set(keys):
        t = alert_acks
        result = conn.execute(
            update(t)
            .where(t.c.business_id == business_id, t.c.service == service)
            .where(t.c.cleared_at.is_(None))
            .values(cleared_at=now)
        )
        closed += result.rowcount
    return closed


def ack_rows(conn: Connection, *, limit: int = 100) -> list[dict[str, Any]]:
    """The newest acks first, open or cleared."""
    stmt = select(alert_acks).order_by(alert_acks.c.id.desc()).limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]
