"""Streaming a table or view out as CSV or JSON Lines, in constant memory.

Rows come from a server-side cursor (``stream_results`` with ``yield_per``: psycopg's
named cursor on PostgreSQL, SQLite's own lazy cursor) and are written as they arrive, so
a million rows cost what a thousand do. JSON is JSON Lines: one object per line, which a
reader can also stream (a JSON array would have to be read whole by most tools).

Only the allow-list below can be exported: the tables an operator may query
(``db.tables.QUERYABLE``) and the summary views. Secrets never leave: ``api_tokens``
(token hashes) is not on the list, and no exported table holds a credential.
"""

from __future__ import annotations

import csv
import difflib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Literal, cast, get_args

from sqlalchemy import Column, Connection, MetaData, Table, literal, select

from masterops.db.summaries import SUMMARIES
from masterops.db.tables import QUERYABLE
from masterops.db.types import UTCDateTime

ExportFormat = Literal["csv", "json"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
#: Never exported, even if a later change makes them queryable: they hold secrets' hashes.
SECRET_TABLES = frozenset({"api_tokens"})
#: Rows fetched from the cursor at a time.
CHUNK_ROWS = 1000
#: The column ``--since`` filters on: the first of these the relation has.
TIME_COLUMNS = (
    "created_at",
    "started_at",
    "checked_at",
    "received_at",
    "order_date",
    "claimed_at",
    "updated_at",
    "last_error_at",
    "last_execution_at",
)


class ExportError(ValueError):
    """A name or filter that cannot be exported; the message says what to use."""


def exportable() -> list[str]:
    names = {n for n in QUERYABLE if n not in SECRET_TABLES} | set(SUMMARIES)
    return sorted(names)


def check_name(name: str) -> str:
    known = exportable()
    if name in known:
        return name
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ExportError(
        f"cannot export {name!r}: no such table or view; {hint}known: {', '.join(known)}"
    )


@dataclass(frozen=True)
class Selection:
    name: str
    columns: tuple[str, ...]
    time_column: str | None
    business_column: str | None


def _relation(conn: Connection, name: str) -> Table:
    if name in QUERYABLE:
        return QUERYABLE[name]
    return Table(name, MetaData(), autoload_with=conn)  # a view: its columns as created


def _pick(table: Table, names: tuple[str, ...]) -> Column[Any] | None:
    for n in names:
        if n in table.c:
            return table.c[n]
    return None


def stream_chunks(
    conn: Connection,
    name: str,
    *,
    since: datetime | None = None,
    business: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[Selection, Iterator[Sequence[Mapping[str, Any]]]]:
    """The relation's columns and its rows in chunks of ``chunk_rows``, each fetched from
    the server when the previous one is done. ``ExportError`` when a filter does not apply
    to this relation."""
    table = _relation(conn, check_name(name))
    when = _pick(table, TIME_COLUMNS)
    owner = _pick(table, ("business_id",) if name != "businesses" else ("id",))
    stmt = select(table)
    if since is not None:
        if when is None:
            raise ExportError(f"{name} has no time column: --since does not apply to it")
        # Typed as the tables' timestamps: a view's columns reflect untyped on SQLite.
        stmt = stmt.where(when >= literal(since, UTCDateTime()))
    if business is not None:
        if owner is None:
            raise ExportError(f"{name} has no business column: --business does not apply to it")
        stmt = stmt.where(owner == business)
    if table.primary_key.columns:
        stmt = stmt.order_by(*table.primary_key.columns)
    selection = Selection(
        name,
        tuple(c.name for c in table.columns),
        when.name if when is not None else None,
        owner.name if owner is not None else None,
    )

    def chunks() -> Iterator[Sequence[Mapping[str, Any]]]:
        # Options for this statement only: Connection.execution_options would change the
        # caller's connection for good.
        result = conn.execute(
            stmt, execution_options={"stream_results": True, "yield_per": chunk_rows}
        )
        try:
            for partition in result.partitions():
                yield [cast(Mapping[str, Any], row._mapping) for row in partition]
        finally:
            result.close()

    return selection, chunks()


def stream_rows(
    conn: Connection,
    name: str,
    *,
    since: datetime | None = None,
    business: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[Selection, Iterator[Mapping[str, Any]]]:
    """``stream_chunks``, row by row."""
    selection, chunks = stream_chunks(
        conn, name, since=since, business=business, chunk_rows=chunk_rows
    )
    return selection, (row for chunk in chunks for row in chunk)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), default=str)
    return value


def write_csv(selection: Selection, rows: Iterator[Mapping[str, Any]], out: IO[str]) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(selection.columns)
    count = 0
    for row in rows:
        writer.writerow(["" if row[c] is None else _cell(row[c]) for c in selection.columns])
        count += 1
    return count


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime | date) else value


def write_jsonl(selection: Selection, rows: Iterator[Mapping[str, Any]], out: IO[str]) -> int:
    count = 0
    for row in rows:
        record = {c: _json_value(row[c]) for c in selection.columns}
        out.write(json.dumps(record, default=str, separators=(",", ":")) + "\n")
        count += 1
    return count


WRITERS = {"csv": write_csv, "json": write_jsonl}
