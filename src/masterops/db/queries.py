"""Read queries the CLI and the API share: filtered table reads, log queries, retention."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Float, Integer, Select, Table, delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from masterops.db.per_group import rows_by_group
from masterops.db.tables import (
    PRUNABLE,
    QUERYABLE,
    RETAINED,
    customers,
    integration_logs,
    order_lines,
    orders,
    products,
    stock_levels,
)
from masterops.db.types import UTCDateTime


class QueryError(ValueError):
    """A query an operator asked for that cannot run; the message names what is wrong."""


def table_named(name: str) -> Table:
    try:
        return QUERYABLE[name]
    except KeyError:
        raise QueryError(f"unknown table {name!r}; known: {', '.join(sorted(QUERYABLE))}") from None


def coerce_value(table: Table, column: str, raw: str) -> Any:
    """Convert an operator's text to the column's Python type; QueryError names the field."""
    col = table.c[column]
    kind = col.type
    try:
        if isinstance(kind, Boolean):
            if raw.lower() not in {"true", "false", "1", "0"}:
                raise ValueError(raw)
            return raw.lower() in {"true", "1"}
        if isinstance(kind, Integer):
            return int(raw)
        if isinstance(kind, Float):
            return float(raw)
        if isinstance(kind, UTCDateTime):
            from masterops.timeparse import parse_instant

            return parse_instant(raw)
    except ValueError:
        raise QueryError(f"{table.name}.{column} needs a {kind} value, got {raw!r}") from None
    return raw


def parse_filters(table: Table, filters: Sequence[str]) -> list[ColumnElement[bool]]:
    """``["level=error", "service=hubspot"]`` → SQL conditions; unknown fields are refused."""
    conditions: list[ColumnElement[bool]] = []
    for item in filters:
        field, sep, raw = item.partition("=")
        field = field.strip()
        if not sep or not field:
            raise QueryError(f"filter {item!r} must look like field=value")
        if field not in table.c:
            known = ", ".join(c.name for c in table.c)
            raise QueryError(f"{table.name} has no field {field!r}; fields: {known}")
        value = coerce_value(table, field, raw)
        conditions.append(table.c[field] == value)
    return conditions


def query_table(
    conn: Connection,
    name: str,
    filters: Sequence[str] = (),
    *,
    limit: int = 50,
    order: str | None = None,
) -> list[dict[str, Any]]:
    """Rows of a known table, filtered by exact matches, newest first by default.

    ``order`` is a field name, ``-field`` for descending.
    """
    if limit < 1:
        raise QueryError(f"--limit must be at least 1, got {limit}")
    table = table_named(name)
    stmt = select(table).where(*parse_filters(table, filters)).limit(limit)
    if order:
        field = order.lstrip("-")
        if field not in table.c:
            raise QueryError(f"cannot order by {field!r}: {name} has no such field")
        stmt = stmt.order_by(table.c[field].desc() if order.startswith("-") else table.c[field])
    elif "created_at" in table.c:
        stmt = stmt.order_by(table.c.created_at.desc())
    return [dict(row._mapping) for row in conn.execute(stmt)]


LOG_FILTERS = ("source", "service", "level", "status", "business_id", "operation")


def _logs(
    filters: Mapping[str, str | None] | None, since: datetime | None, until: datetime | None
) -> Select[Any]:
    t = integration_logs
    stmt = select(t)
    for key, value in (filters or {}).items():
        if key not in LOG_FILTERS:
            raise QueryError(f"unknown log filter {key!r}; known: {', '.join(LOG_FILTERS)}")
        if value is not None:
            stmt = stmt.where(t.c[key] == value)
    if since is not None:
        stmt = stmt.where(t.c.created_at >= since)
    if until is not None:
        stmt = stmt.where(t.c.created_at < until)
    return stmt


_NEWEST_LOGS = (integration_logs.c.created_at.desc(), integration_logs.c.id.desc())


def query_logs(
    conn: Connection,
    *,
    filters: Mapping[str, str | None] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """``integration_logs`` rows matching every given filter, oldest first.

    ``after_id`` returns only rows newer than a row already seen (``--follow``).
    """
    t = integration_logs
    stmt = _logs(filters, since, until)
    if after_id is not None:
        stmt = stmt.where(t.c.id > after_id)
        stmt = stmt.order_by(t.c.id).limit(limit)
        return [dict(r._mapping) for r in conn.execute(stmt)]
    # The newest `limit` rows, shown oldest first as a log reads.
    stmt = stmt.order_by(*_NEWEST_LOGS).limit(limit)
    return [dict(r._mapping) for r in reversed(conn.execute(stmt).all())]


def query_logs_of(
    conn: Connection,
    business_ids: Collection[str],
    *,
    filters: Mapping[str, str | None] | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> dict[str, list[dict[str, Any]]]:
    """``query_logs`` of each business (its newest ``limit`` rows, oldest first), in one
    statement: by business id."""
    t = integration_logs
    stmt = _logs(filters, since, None).where(t.c.business_id.in_(business_ids))
    found = rows_by_group(conn, stmt, t.c.business_id, order_by=_NEWEST_LOGS, limit=limit)
    return {b: rows[::-1] for b, rows in found.items()}


def _prunable_rows(name: str, older_than: datetime) -> ColumnElement[bool]:
    """The rows of log table ``name`` that retention may delete: older than the cutoff and
    not marked as retained (RETAINED)."""
    if name not in PRUNABLE:
        raise QueryError(f"{name!r} is not a log table; prunable: {', '.join(PRUNABLE)}")
    condition: ColumnElement[bool] = PRUNABLE[name] < older_than
    if name in RETAINED:
        condition = condition & ~RETAINED[name]
    return condition


def prunable_counts(
    conn: Connection, older_than: datetime, tables: Sequence[str] | None = None
) -> dict[str, int]:
    """How many rows ``prune`` would delete per table, deleting nothing."""
    names = list(tables) if tables else list(PRUNABLE)
    counts: dict[str, int] = {}
    for name in names:
        condition = _prunable_rows(name, older_than)
        stmt = select(func.count()).select_from(PRUNABLE[name].table).where(condition)
        counts[name] = int(conn.execute(stmt).scalar_one())
    return counts


def prune(
    conn: Connection, older_than: datetime, tables: Sequence[str] | None = None
) -> dict[str, int]:
    """Delete log rows created before ``older_than``; returns rows deleted per table."""
    names = list(tables) if tables else list(PRUNABLE)
    deleted: dict[str, int] = {}
    for name in names:
        condition = _prunable_rows(name, older_than)
        result = conn.execute(delete(PRUNABLE[name].table).where(condition))
        deleted[name] = int(result.rowcount or 0)
    return deleted


def mirror_counts(conn: Connection) -> list[dict[str, Any]]:
    """Per business, what the syncs have mirrored: products, warehouses, stock lines,
    customers, orders and order lines, and how many products reached HubSpot."""
    counted = {
        "products": select(products.c.business_id, func.count()).group_by(products.c.business_id),
        "in HubSpot": select(products.c.business_id, func.count())
        .where(products.c.hubspot_id.is_not(None))
        .group_by(products.c.business_id),
        "warehouses": select(
            stock_levels.c.business_id, func.count(func.distinct(stock_levels.c.warehouse_code))
        ).group_by(stock_levels.c.business_id),
        "stock lines": select(stock_levels.c.business_id, func.count()).group_by(
            stock_levels.c.business_id
        ),
        "customers": select(customers.c.business_id, func.count()).group_by(
            customers.c.business_id
        ),
        "orders": select(orders.c.business_id, func.count()).group_by(orders.c.business_id),
        "order lines": select(order_lines.c.business_id, func.count()).group_by(
            order_lines.c.business_id
        ),
    }
    rows: dict[str, dict[str, Any]] = {}
    for name, stmt in counted.items():
        for business_id, count in conn.execute(stmt):
            rows.setdefault(business_id, {"business": business_id})[name] = int(count)
    return [
        {"business": b, **{name: rows[b].get(name, 0) for name in counted}} for b in sorted(rows)
    ]
