"""Reads the API, the metrics and the dashboard share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, func, select

from masterops.db.tables import health_checks
from masterops.integrations.base import SEVERITY


def latest_health(conn: Connection) -> list[dict[str, Any]]:
    """The newest stored check of every (business, service), sorted by business, service."""
    t = health_checks
    # The highest id is the row stored last (rows of one round share nearly one time).
    newest = select(func.max(t.c.id)).group_by(t.c.business_id, t.c.service).scalar_subquery()
    stmt = (
        select(
            t.c.business_id,
            t.c.service,
            t.c.status,
            t.c.latency_ms,
            t.c.message,
            t.c.breaker,
            t.c.checked_at,
        )
        .where(t.c.id.in_(newest))
        .order_by(t.c.business_id, t.c.service)
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def overall_status(rows: Iterable[Mapping[str, Any]]) -> str:
    """The worst status among checked services: healthy, degraded or down; "unknown" when
    nothing has been checked (or everything is disabled)."""
    worst = -1
    for row in rows:
        worst = max(worst, SEVERITY.get(str(row["status"]), -1))
    return {-1: "unknown", 0: "healthy", 1: "degraded", 2: "down"}[worst]
