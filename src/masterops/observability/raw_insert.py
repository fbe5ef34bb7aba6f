"""Multi-row INSERTs that skip SQLAlchemy's per-row parameter processing.

Telemetry tables take tens of thousands of rows a second; SQLAlchemy's generic
bind processing cost more per row than the database itself. This converts the
few column types the tables use (aware UTC timestamps, JSON, booleans) once, in
a tight loop, and hands plain tuples to the driver's ``executemany``. The stored
values are exactly what SQLAlchemy would store, so ORM reads see no difference.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Table

from masterops.db.types import SQLITE_TIME_FORMAT, UTCDateTime

Converter = Callable[[Any], Any]


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return value


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, default=str)


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _converter(column_type: Any, dialect: str) -> Converter | None:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_time if dialect == "sqlite" else _pg_time
    if isinstance(column_type, JSON) or getattr(column_type, "__visit_name__", "") == "JSONB":
        return _json
    if isinstance(column_type, Boolean) and dialect == "sqlite":
        return _sqlite_bool
    return None


class RawInsert:
    """Inserts rows (dicts with the same keys) into ``table`` through the raw driver."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[str, list[Converter | None]]] = {}

    def _plan(self, dialect: str, columns: tuple[str, ...]) -> tuple[str, list[Converter | None]]:
        key = (dialect, columns)
        plan = self._plans.get(key)
        if plan is None:
            marker = "?" if dialect == "sqlite" else "%s"
            sql = (
                f"INSERT INTO {self.table.name} ({', '.join(columns)}) "
                f"VALUES ({', '.join([marker] * len(columns))})"
            )
            converters = []
            for name in columns:
                column_type = self.table.c[name].type
                variant = getattr(column_type, "_variant_mapping", {}).get(dialect)
                converters.append(_converter(variant or column_type, dialect))
            plan = (sql, converters)
            self._plans[key] = plan
        return plan

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = tuple(rows[0])
        sql, converters = self._plan(conn.dialect.name, columns)
        convert = [(i, c) for i, c in enumerate(converters) if c is not None]
        params: list[list[Any]] = []
        for row in rows:
            values = [row.get(name) for name in columns]
            for index, converter in convert:
                values[index] = converter(values[index])
            params.append(values)
        conn.exec_driver_sql(sql, [tuple(v) for v in params])
