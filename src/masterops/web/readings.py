"""Reads the API, the metrics and the dashboard share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, TextualSelect, text

from masterops.db.tables import health_checks
from masterops.integrations.base import SEVERITY

# The newest check of each (business, service) without reading the whole table, which
# grows by every check of every round: a skip scan over the (business_id, service,
# checked_at) index finds each distinct pair with one index probe (row-value comparison:
# PostgreSQL and SQLite 3.15+), then one probe per pair finds its newest row. Checks of
# one pair are stored in time order, so the newest checked_at (then id) is the last one.
_PAIRS = """
    WITH RECURSIVE pairs(business_id, service) AS (
        SELECT business_id, service FROM (
            SELECT business_id, service FROM health_checks
            ORDER BY business_id, service LIMIT 1
        ) AS first_pair
        UNION ALL
        SELECT
            (SELECT h.business_id FROM health_checks h
             WHERE (h.business_id, h.service) > (p.business_id, p.service)
             ORDER BY h.business_id, h.service LIMIT 1),
            (SELECT h.service FROM health_checks h
             WHERE (h.business_id, h.service) > (p.business_id, p.service)
             ORDER BY h.business_id, h.service LIMIT 1)
        FROM pairs p
        WHERE p.business_id IS NOT NULL
    )
"""
_COLUMNS = "business_id, service, status, latency_ms, message, breaker, checked_at"
_NEWEST_OF_PAIR = """
    SELECT {columns} FROM health_checks h
    WHERE h.business_id = p.business_id AND h.service = p.service
    ORDER BY h.checked_at DESC, h.id DESC LIMIT 1
"""
# PostgreSQL: a lateral join reads the newest row of each pair by the index. SQLite has no
# LATERAL; there the ids of the newest rows are looked up by primary key.
_LATEST_BY_DIALECT = {
    "postgresql": _PAIRS
    + f"""
    SELECT newest.* FROM pairs p
    CROSS JOIN LATERAL ({_NEWEST_OF_PAIR.format(columns=_COLUMNS)}) AS newest
    WHERE p.business_id IS NOT NULL
    ORDER BY newest.business_id, newest.service
    """,
    "sqlite": _PAIRS
    + f"""
    SELECT {_COLUMNS} FROM health_checks
    WHERE id IN (
        SELECT ({_NEWEST_OF_PAIR.format(columns="h.id")})
        FROM pairs p WHERE p.business_id IS NOT NULL
    )
    ORDER BY business_id, service
    """,
}


def _latest_query(dialect: str) -> TextualSelect:
    c = health_checks.c
    columns = (c.business_id, c.service, c.status, c.latency_ms, c.message, c.breaker)
    return text(_LATEST_BY_DIALECT[dialect]).columns(*columns, c.checked_at)


def latest_health(conn: Connection) -> list[dict[str, Any]]:
    """The newest stored check of every (business, service), sorted by business, service."""
    return [dict(r._mapping) for r in conn.execute(_latest_query(conn.dialect.name))]


def overall_status(rows: Iterable[Mapping[str, Any]]) -> str:
    """The worst status among checked services: healthy, degraded or down; "unknown" when
    nothing has been checked (or everything is disabled)."""
    worst = -1
    for row in rows:
        worst = max(worst, SEVERITY.get(str(row["status"]), -1))
    return {-1: "unknown", 0: "healthy", 1: "degraded", 2: "down"}[worst]
