"""Counting API calls per account and calendar month (UTC), for monthly quotas.

The count lives in the database so every process and machine shares it: one
atomic upsert per call returns the new total.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from masterops.db.tables import api_quota_usage


def period_of(moment: datetime) -> str:
    """The quota period (``YYYY-MM``, UTC) that ``moment`` falls in."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def record_calls(
    conn: Connection, service: str, account: str, *, calls: int = 1, at: datetime | None = None
) -> int:
    """Add ``calls`` to this month's count and return the new total."""
    now = at or datetime.now(UTC)
    t = api_quota_usage
    values = {
        "service": service,
        "account": account,
        "period": period_of(now),
        "calls": calls,
        "updated_at": now,
    }
    dialect = conn.dialect.name
    stmt = (postgresql.insert(t) if dialect == "postgresql" else sqlite.insert(t)).values(values)
    upsert = stmt.on_conflict_do_update(
        index_elements=["service", "account", "period"],
        set_={"calls": t.c.calls + stmt.excluded.calls, "updated_at": stmt.excluded.updated_at},
    ).returning(t.c.calls)
    return int(conn.execute(upsert).scalar_one())


def calls_in_period(
    conn: Connection, service: str, account: str, *, at: datetime | None = None
) -> int:
    t = api_quota_usage
    period = period_of(at or datetime.now(UTC))
    value = conn.execute(
        select(t.c.calls).where(
            t.c.service == service, t.c.account == account, t.c.period == period
        )
    ).scalar()
    return int(value or 0)
