"""Health results in ``health_checks``: saving a round, and the status before it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from masterops.db.tables import health_checks
from masterops.integrations.base import HealthResult
from masterops.observability.redaction import Redactor

#: (business_id, service)
Key = tuple[str, str]


def save_results(
    conn: Connection, results: Sequence[HealthResult], *, redactor: Redactor | None = None
) -> int:
    """Insert one row per result; returns how many. Messages and details go through
    ``redactor`` too: connectors redact their own, but a row is forever."""
    redact = redactor or Redactor()
    rows = [
        {
            "business_id": r.business_id,
            "service": r.service,
            "status": r.status,
            "latency_ms": r.latency_ms,
            "message": redact.text(r.message),
            "breaker": r.breaker,
            "details_json": redact.mapping(r.details) if r.details else None,
            "checked_at": r.checked_at,
        }
        for r in results
    ]
    if rows:
        conn.execute(insert(health_checks), rows)
    return len(rows)


def latest_statuses(conn: Connection, keys: Iterable[Key] | None = None) -> dict[Key, str]:
    """The last stored status of each (business, service), limited to ``keys`` if given;
    a pair never checked is absent."""
    wanted = set(keys) if keys is not None else None
    if wanted is not None and not wanted:
        return {}
    # The highest id is the row stored last, which is what "previous" means here; rows of
    # one round carry slightly different checked_at values, so the id is the safer order.
    newest = select(func.max(health_checks.c.id)).group_by(
        health_checks.c.business_id, health_checks.c.service
    )
    if wanted is not None:
        newest = newest.where(
            health_checks.c.business_id.in_({b for b, _ in wanted}),
            health_checks.c.service.in_({s for _, s in wanted}),
        )
    stmt = select(
        health_checks.c.business_id, health_checks.c.service, health_checks.c.status
    ).where(health_checks.c.id.in_(newest.scalar_subquery()))
    found = {(row.business_id, row.service): row.status for row in conn.execute(stmt)}
    return found if wanted is None else {k: v for k, v in found.items() if k in wanted}


def record_round(
    engine: Engine, results: Sequence[HealthResult], *, redactor: Redactor | None = None
) -> dict[Key, str]:
    """Store ``results`` and return the status each pair had before them, in one
    transaction, so the comparison is with the round stored just before this one."""
    with engine.begin() as conn:
        previous = latest_statuses(conn, {(r.business_id, r.service) for r in results})
        save_results(conn, results, redactor=redactor)
    return previous


def recent_checks(
    conn: Connection,
    *,
    business_id: str | None = None,
    service: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The newest stored checks first, optionally for one business and/or service."""
    stmt = select(health_checks).order_by(health_checks.c.id.desc()).limit(limit)
    if business_id is not None:
        stmt = stmt.where(health_checks.c.business_id == business_id)
    if service is not None:
        stmt = stmt.where(health_checks.c.service == service)
    return [dict(row._mapping) for row in conn.execute(stmt)]
