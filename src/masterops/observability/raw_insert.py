"""Bulk row writes that skip SQLAlchemy's per-row parameter processing.

Telemetry tables take tens of thousands of rows a second; SQLAlchemy's generic bind
processing cost more per row than the database itself. This converts the few column
types the tables use (aware UTC timestamps, JSON, booleans) once, in a tight loop, and
hands plain tuples to the driver in its fastest bulk form:

* PostgreSQL: ``COPY ... FROM STDIN (FORMAT BINARY)`` through psycopg 3's ``cursor.copy``
  with the columns' types set once: one stream, no statement per row, and neither side
  formats or parses text for a timestamp or a number (binary halved the client's COPY work
  against the text format and spares the server its parsing). The server refuses a NUL in
  text as it does for a bound parameter. A table with a column type outside the few the
  telemetry tables use gets the text format.
* SQLite: multi-row ``INSERT ... VALUES (...), (...)`` statements, as many rows each as
  SQLite's limit on bound parameters allows.
* anything else: the driver's ``executemany``.

The stored values read back exactly as what SQLAlchemy would store (JSON is written in
its compact form, ``{"a":1}``, which parses to the same value), so reads see no
difference. A batch is all or nothing: any failure raises and the caller's transaction
rolls the whole batch back.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import JSON, Boolean, Connection, Table
from sqlalchemy.exc import DBAPIError

from masterops.db.types import UTCDateTime

Converter = Callable[[Any], Any]

#: Rows per multi-row INSERT at most: beyond a few hundred a longer statement only costs
#: parsing time.
SQLITE_MAX_ROWS = 500


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not UTC:  # most telemetry is stamped in UTC already: skip the work
        value = value.astimezone(UTC)
    # The text SQLAlchemy's SQLite DATETIME writes (SQLITE_TIME_FORMAT with the year
    # padded to four digits, which strftime leaves out), faster than strftime.
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _pg_time(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    return value


# What json.dumps(value, default=str) does, without building an encoder per call.
_encode_json = json.JSONEncoder(default=str).encode

#: orjson as ``json.dumps(value, default=str)``: datetimes and dataclasses through ``str``
#: as the json module does them, keys that are not strings turned into strings.
_ORJSON_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def _json_bytes(value: Any) -> bytes:
    """``value`` as JSON (compact): orjson takes a tenth of the json module's time, which
    was most of the client's work per row."""
    try:
        return orjson.dumps(value, default=str, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: the json module's way
        return _encode_json(value).encode()


def _json(value: Any) -> str | None:
    return None if value is None else _json_bytes(value).decode()


def _jsonb_binary(value: Any) -> bytes | None:
    # jsonb's binary wire form is a version byte (1) and the JSON text (PostgreSQL's
    # jsonb_recv); sent as bytea, psycopg passes the bytes through untouched.
    return None if value is None else b"\x01" + _json_bytes(value)


def _sqlite_bool(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def _integer_range(column: str, bits: int) -> Converter:
    """A check that a value fits a ``bits``-bit column: psycopg's binary dumper sends the
    low bytes of a larger one (stored wrapped, silently) where an INSERT is refused."""
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1)

    def check(value: Any) -> Any:
        if value is not None and not low <= value < high:
            raise ValueError(f"{column}: {value!r} is out of range for a {bits}-bit integer")
        return value

    return check


#: PostgreSQL types whose binary form psycopg writes from the values ``_Plan.values``
#: makes (by oid: bool, int8, int2, int4, text, float8, bpchar, varchar,
#: timestamptz); jsonb (3802) goes as bytea (see ``_jsonb_binary``).
_BINARY_OIDS = frozenset({16, 20, 21, 23, 25, 701, 1042, 1043, 1184})
_JSONB_OID = 3802
_BYTEA_OID = 17
_INTEGER_BITS = {21: 16, 23: 32}  # int2, int4 (int8 is Python's range for psycopg)


def _converter(column_type: Any, dialect: str) -> Converter | None:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_time if dialect == "sqlite" else _pg_time
    if isinstance(column_type, JSON) or getattr(column_type, "__visit_name__", "") == "JSONB":
        return _json
    if isinstance(column_type, Boolean) and dialect == "sqlite":
        return _sqlite_bool
    return None


class _Plan:
    """How rows with one set of keys go into the table on one dialect."""

    def __init__(
        self,
        table: Table,
        dialect: str,
        columns: tuple[str, ...],
        quote: Callable[[str], str],
        max_parameters: int,
        pg_oids: Sequence[int] | None = None,
    ) -> None:
        self.columns = columns
        self._pick = itemgetter(*columns) if len(columns) > 1 else lambda row: (row[columns[0]],)
        names = ", ".join(quote(name) for name in columns)
        target = f"{quote(table.name)} ({names})"
        self.copy = f"COPY {target} FROM STDIN"
        #: The types of a binary COPY (None: the text format).
        self.copy_types: list[int] | None = None
        marker = "?" if dialect == "sqlite" else "%s"
        self.row = "(" + ", ".join([marker] * len(columns)) + ")"
        self.insert = f"INSERT INTO {target} VALUES "
        self.per_statement = max(1, min(SQLITE_MAX_ROWS, max_parameters // len(columns)))
        self._multi: dict[int, str] = {}
        converters = []
        for name in columns:
            column_type = table.c[name].type
            variant = getattr(column_type, "_variant_mapping", {}).get(dialect)
            converters.append(_converter(variant or column_type, dialect))
        if pg_oids is not None and all(o in _BINARY_OIDS or o == _JSONB_OID for o in pg_oids):
            self.copy += " (FORMAT BINARY)"
            self.copy_types = [_BYTEA_OID if o == _JSONB_OID else o for o in pg_oids]
            for i, oid in enumerate(pg_oids):
                if oid == _JSONB_OID:
                    converters[i] = _jsonb_binary
                elif oid in _INTEGER_BITS:
                    name = f"{table.name}.{columns[i]}"
                    converters[i] = _integer_range(name, _INTEGER_BITS[oid])
        self.convert = [(i, c) for i, c in enumerate(converters) if c is not None]

    def values(self, rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        convert = self.convert
        # itemgetter reads a row's values in C: a fifth of the time of a loop of .get().
        pick = self._pick
        out: list[tuple[Any, ...]] = []
        for row in rows:
            try:
                values = list(pick(row))
            except KeyError:  # a row without some key of the first: NULL, as before
                values = [row.get(name) for name in self.columns]
            for index, converter in convert:
                values[index] = converter(values[index])
            out.append(tuple(values))
        return out

    def multi_insert(self, rows: int) -> str:
        """The INSERT statement for ``rows`` rows (kept: a batch has at most two sizes)."""
        sql = self._multi.get(rows)
        if sql is None:
            if len(self._multi) > 8:  # odd batch sizes: keep the full-size statement
                self._multi = {k: v for k, v in self._multi.items() if k == self.per_statement}
            sql = self._multi[rows] = self.insert + ", ".join([self.row] * rows)
        return sql


class RawInsert:
    """Inserts rows (dicts with the same keys) into ``table`` through the raw driver."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._plans: dict[tuple[str, tuple[str, ...]], _Plan] = {}

    def _plan(self, conn: Connection, columns: tuple[str, ...]) -> _Plan:
        dialect = conn.dialect.name
        key = (dialect, columns)
        plan = self._plans.get(key)
        if plan is None:
            quote = conn.dialect.identifier_preparer.quote
            copies = dialect == "postgresql" and conn.dialect.driver == "psycopg"
            oids = _pg_oids(conn, self.table, columns) if copies else None
            plan = _Plan(self.table, dialect, columns, quote, _max_parameters(conn), oids)
            self._plans[key] = plan
        return plan

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Write ``rows`` (all with the keys of the first) in the caller's transaction."""
        if not rows:
            return
        plan = self._plan(conn, tuple(rows[0]))
        values = plan.values(rows)
        dialect = conn.dialect.name
        if dialect == "postgresql" and conn.dialect.driver == "psycopg":
            _copy(conn, plan, values)
        elif dialect == "sqlite":
            _multi_row(conn, plan, values)
        else:
            conn.exec_driver_sql(plan.insert + plan.row, values)


def _max_parameters(conn: Connection) -> int:
    """Bound parameters one statement may hold: SQLite's compiled-in limit (999 before
    3.32, 32766 since), asked of the connection."""
    if conn.dialect.name != "sqlite":
        return 65_535  # PostgreSQL's protocol limit; only SQLite's multi-row path uses it
    driver = conn.connection.driver_connection
    return int(driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))  # type: ignore[union-attr]


def _pg_oids(conn: Connection, table: Table, columns: tuple[str, ...]) -> list[int] | None:
    """The type oids of ``columns`` in the live table (the one COPY's unqualified name
    finds on the search path); None if one is missing (COPY will say which)."""
    found: dict[str, int] = dict(
        conn.exec_driver_sql(
            "SELECT attname, atttypid FROM pg_attribute"
            " WHERE attrelid = CAST(%s AS regclass) AND attnum > 0 AND NOT attisdropped",
            (conn.dialect.identifier_preparer.quote(table.name),),
        ).all()
    )
    if not all(name in found for name in columns):
        return None
    return [int(found[name]) for name in columns]


def _copy(conn: Connection, plan: _Plan, values: list[tuple[Any, ...]]) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None  # a connection inside a transaction is checked out
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(plan.copy) as copy:
            if plan.copy_types is not None:
                copy.set_types(plan.copy_types)
            write = copy.write_row
            for row in values:
                write(row)
    except dbapi_error as exc:
        # Raised as SQLAlchemy raises a driver error of an INSERT (DataError for a NUL,
        # IntegrityError, ...), so callers see the same exceptions as before COPY.
        raise DBAPIError.instance(plan.copy, None, exc, dbapi_error, dialect=conn.dialect) from exc


def _multi_row(conn: Connection, plan: _Plan, values: list[tuple[Any, ...]]) -> None:
    step = plan.per_statement
    for start in range(0, len(values), step):
        chunk = values[start : start + step]
        conn.exec_driver_sql(plan.multi_insert(len(chunk)), tuple(v for row in chunk for v in row))
