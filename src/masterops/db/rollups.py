"""Hourly and daily rollups of ``api_metrics`` and ``integration_logs``, kept by adding.

Whoever inserts raw rows also calls ``add_rows`` in the same transaction: the batch is
summed per (period, key) in Python and each sum is added to its rollup row with one
``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``. Adding commutes, so the
rollups are right whatever order rows arrive in (late rows, backfills) and however many
writers there are: on PostgreSQL each upsert locks its row, and the rows of a batch are
sent in key order so two writers never wait for each other in a cycle; on SQLite there
is one writer at a time. The raw insert and the addition commit or fail together.

``rebuild`` recomputes the rollups from the raw rows, one UTC day per transaction, with
writers held off that table meanwhile (PostgreSQL: ``LOCK ... IN SHARE MODE``; SQLite's
one write transaction does the same), for data written by other means or after a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, text

from masterops.db import latency_histogram as hist
from masterops.db.sql_time import hour_floor
from masterops.db.tables import (
    api_metrics,
    api_metrics_daily,
    api_metrics_hourly,
    integration_logs,
    integration_logs_daily,
    integration_logs_hourly,
    workflow_execution_logs,
    workflow_executions_daily,
    workflow_executions_hourly,
)
from masterops.db.types import time_param

Row = Mapping[str, Any]
Key = tuple[Any, ...]


def _status_class(code: int | None) -> str:
    return "none" if code is None else f"{int(code) // 100}xx"


@dataclass(frozen=True)
class RollupSource:
    """How one raw table rolls up: its key columns, read from a row and in SQL."""

    raw: Table
    hourly: Table
    daily: Table
    keys: tuple[str, ...]
    key_of: Callable[[Row], Key]
    key_sql: tuple[str, ...]  # over the raw table's columns, in ``keys`` order
    is_error: Callable[[Row], bool]
    error_sql: str  # 1 for an error row, else 0
    time_column: str = "created_at"  # the raw rows' time, which period they fall in


API_METRICS = RollupSource(
    raw=api_metrics,
    hourly=api_metrics_hourly,
    daily=api_metrics_daily,
    keys=("business_id", "service", "endpoint", "operation", "status_class"),
    key_of=lambda r: (
        r.get("business_id") or "",
        r["service"],
        r["endpoint"],
        r.get("operation") or "",
        _status_class(r.get("status_code")),
    ),
    key_sql=(
        "COALESCE(business_id, '')",
        "service",
        "endpoint",
        "COALESCE(operation, '')",
        "CASE WHEN status_code IS NULL THEN 'none'"
        " ELSE CAST(status_code / 100 AS VARCHAR(8)) || 'xx' END",
    ),
    is_error=lambda r: not r["success"],
    error_sql="CASE WHEN success THEN 0 ELSE 1 END",
)

INTEGRATION_LOGS = RollupSource(
    raw=integration_logs,
    hourly=integration_logs_hourly,
    daily=integration_logs_daily,
    keys=("business_id", "source", "service", "operation", "level"),
    key_of=lambda r: (
        r.get("business_id") or "",
        r["source"],
        r.get("service") or "",
        r.get("operation") or "",
        r["level"],
    ),
    key_sql=(
        "COALESCE(business_id, '')",
        "source",
        "COALESCE(service, '')",
        "COALESCE(operation, '')",
        "level",
    ),
    is_error=lambda r: r["level"] == "error",
    error_sql="CASE WHEN level = 'error' THEN 1 ELSE 0 END",
)

#: Rolled up by whoever inserts the raw rows (``add_rows``).
SOURCES = {s.raw.name: s for s in (API_METRICS, INTEGRATION_LOGS)}

FAILED_STATUSES = ("error", "crashed")
#: Rolled up by triggers: an execution's row changes as it runs (db/workflow_rollups.py).
WORKFLOW_EXECUTIONS = RollupSource(
    raw=workflow_execution_logs,
    hourly=workflow_executions_hourly,
    daily=workflow_executions_daily,
    # No business: the summary is per workflow, and a fourth of the rows read.
    keys=("workflow_id", "workflow_name", "status"),
    key_of=lambda r: (
        r["workflow_id"],
        r.get("workflow_name") or "",
        r["status"],
    ),
    key_sql=(
        "workflow_id",
        "COALESCE(workflow_name, '')",
        "status",
    ),
    is_error=lambda r: r["status"] in FAILED_STATUSES,
    error_sql="CASE WHEN status IN ('error', 'crashed') THEN 1 ELSE 0 END",
    time_column="started_at",
)
#: Every rolled-up table, for ``rebuild``.
REBUILT = {**SOURCES, WORKFLOW_EXECUTIONS.raw.name: WORKFLOW_EXECUTIONS}


def hour_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def day_start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Tally:
    """The counters of one rollup row, before they are added to the stored ones."""

    calls: int = 0
    errors: int = 0
    duration_count: int = 0
    duration_sum: float = 0.0
    duration_min: float | None = None
    duration_max: float | None = None
    last_at: datetime | None = None
    buckets: list[int] = field(default_factory=lambda: [0] * hist.BUCKETS)

    def merge(self, other: Tally) -> None:
        """Add another tally's counters to this one (an hour's into its day's)."""
        self.calls += other.calls
        self.errors += other.errors
        self.duration_count += other.duration_count
        self.duration_sum += other.duration_sum
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        assert other.last_at is not None  # a tally counts at least one row
        self._extremes(other.duration_min, other.duration_max, other.last_at)

    def _extremes(self, low: float | None, high: float | None, at: datetime) -> None:
        if low is not None and (self.duration_min is None or low < self.duration_min):
            self.duration_min = low
        if high is not None and (self.duration_max is None or high > self.duration_max):
            self.duration_max = high
        if self.last_at is None or at > self.last_at:
            self.last_at = at


Tallies = dict[tuple[datetime, Key], Tally]


def tally_rows(source: RollupSource, rows: Iterable[Row]) -> tuple[Tallies, Tallies]:
    """The hourly and the daily tallies of raw rows (dicts as inserted).

    The telemetry writer's hot loop (a few microseconds a row counted): each row is
    added, inline, to its hour's tally only; the days are then the sums of their hours'
    tallies, a few per batch (the rebuild adds them up the same way)."""
    hourly: Tallies = {}
    key_of, is_error, bucket_of = source.key_of, source.is_error, hist.bucket_of
    for row in rows:
        at: datetime = row["created_at"]
        utc = at if at.tzinfo is UTC else at.astimezone(UTC)
        slot = (utc.replace(minute=0, second=0, microsecond=0), key_of(row))
        tally = hourly.get(slot)
        if tally is None:
            tally = hourly[slot] = Tally()
        tally.calls += 1
        if is_error(row):
            tally.errors += 1
        duration = row.get("duration_ms")
        if duration is not None:
            tally.duration_count += 1
            tally.duration_sum += duration
            tally.buckets[bucket_of(duration)] += 1
            if tally.duration_min is None or duration < tally.duration_min:
                tally.duration_min = duration
            if tally.duration_max is None or duration > tally.duration_max:
                tally.duration_max = duration
        if tally.last_at is None or at > tally.last_at:
            tally.last_at = at
    daily: Tallies = {}
    for (hour, key), tally in hourly.items():
        slot = (hour.replace(hour=0), key)
        day = daily.get(slot)
        if day is None:
            day = daily[slot] = Tally()
        day.merge(tally)
    return hourly, daily


def _pick(op: str, column: str, table: str) -> str:
    """The smaller/larger of stored and added, where either may be NULL (both dialects)."""
    old, new = f"{table}.{column}", f"excluded.{column}"
    return (
        f"CASE WHEN {old} IS NULL THEN {new} WHEN {new} IS NULL THEN {old}"
        f" WHEN {new} {op} {old} THEN {new} ELSE {old} END"
    )


def rollup_columns(keys: Sequence[str]) -> tuple[str, ...]:
    return ("period_start", *keys, *_SUMMED, "duration_min", "duration_max", "last_at")


_SUMMED = ("calls", "errors", "duration_count", "duration_sum", *hist.COLUMNS)
#: Bound values per SQLite statement (its limit is 32766).
_MAX_PARAMS = 30_000


def on_conflict_sql(table: Table, keys: Sequence[str]) -> str:
    updates = [f"{c} = {table.name}.{c} + excluded.{c}" for c in _SUMMED]
    updates += [
        f"duration_min = {_pick('<', 'duration_min', table.name)}",
        f"duration_max = {_pick('>', 'duration_max', table.name)}",
        f"last_at = {_pick('>', 'last_at', table.name)}",
    ]
    return f" ON CONFLICT (period_start, {', '.join(keys)}) DO UPDATE SET {', '.join(updates)}"


def _upsert_sql(table: Table, keys: Sequence[str], rows: int) -> str:
    """SQLite: one INSERT of ``rows`` rollup rows that adds each to the stored one."""
    columns = rollup_columns(keys)
    one = "(" + ", ".join(["?"] * len(columns)) + ")"
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join([one] * rows)}"
        + on_conflict_sql(table, keys)
    )


def _pg_upsert_sql(table: Table, keys: Sequence[str]) -> str:
    """PostgreSQL: the same from one array per column (a few bound values, not thousands:
    the driver's placeholder parsing cost more than the database's work)."""
    kinds = ["timestamptz", *["text"] * len(keys), "bigint", "bigint", "bigint", "float8"]
    kinds += ["integer"] * len(hist.COLUMNS) + ["float8", "float8", "timestamptz"]
    arrays = ", ".join(f"%s::{kind}[]" for kind in kinds)
    columns = ", ".join(rollup_columns(keys))
    return f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})" + on_conflict_sql(
        table, keys
    )


def _pg_element(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f'"{value.isoformat()}"'
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _pg_array(values: Sequence[Any]) -> str:
    """An array literal (``{1,2,NULL}``): the driver's per-element adaptation of a list
    cost a second per batch of a few thousand rollup rows; text is one string."""
    if type(values[0]) is int and all(type(v) is int for v in values):
        return "{" + ",".join(map(str, values)) + "}"  # the counters: most columns
    return "{" + ",".join(map(_pg_element, values)) + "}"


def _values(tallies: Tallies, dialect: str) -> list[tuple[Any, ...]]:
    values = []
    # Key order: concurrent writers lock rows in the same order (no deadlock).
    for (period, key), tally in sorted(tallies.items(), key=lambda item: item[0]):
        assert tally.last_at is not None
        values.append(
            (
                time_param(period, dialect),
                *key,
                tally.calls,
                tally.errors,
                tally.duration_count,
                tally.duration_sum,
                *tally.buckets,
                tally.duration_min,
                tally.duration_max,
                time_param(tally.last_at, dialect),
            )
        )
    return values


def add_tallies(conn: Connection, source: RollupSource, hourly: Tallies, daily: Tallies) -> None:
    """Add tallies to the stored rollups: multi-row upserts through the driver (a rollup
    row has ~150 columns; per-row statements cost more than the raw insert itself). In
    key order, so that concurrent writers lock rows in the same order (no deadlock)."""
    dialect = conn.dialect.name
    per_statement = _MAX_PARAMS // len(rollup_columns(source.keys))
    for table, tallies in ((source.hourly, hourly), (source.daily, daily)):
        values = _values(tallies, dialect)
        if not values:
            continue
        if dialect == "postgresql":
            columns = tuple(_pg_array(column) for column in zip(*values, strict=True))
            conn.exec_driver_sql(_pg_upsert_sql(table, source.keys), columns)
            continue
        for start in range(0, len(values), per_statement):
            chunk = values[start : start + per_statement]
            sql = _upsert_sql(table, source.keys, len(chunk))
            conn.exec_driver_sql(sql, tuple(v for row in chunk for v in row))


def add_rows(conn: Connection, rows: Sequence[Row], table_name: str) -> None:
    """Add raw rows just inserted into ``table_name`` (in this transaction) to its rollups.

    Each row needs ``created_at`` (aware); other missing columns count as NULL."""
    source = SOURCES[table_name]
    hourly, daily = tally_rows(source, rows)
    add_tallies(conn, source, hourly, daily)


# -- rebuild -----------------------------------------------------------------------


def as_time(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(parsed, datetime)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _rebuild_day(conn: Connection, source: RollupSource, day: datetime) -> int:
    """Recompute one UTC day of ``source``'s rollups from its raw rows; rows read."""
    dialect = conn.dialect.name
    raw = source.raw.name
    at = source.time_column
    if dialect == "postgresql":
        # Inserts into the raw table wait until this day is rebuilt (and committed).
        conn.execute(text(f"LOCK TABLE {raw} IN SHARE MODE"))
    bounds = {"start": time_param(day, dialect), "end": time_param(day + timedelta(1), dialect)}
    for table in (source.hourly, source.daily):
        conn.execute(
            text(f"DELETE FROM {table.name} WHERE period_start >= :start AND period_start < :end"),
            bounds,
        )
    keys = ", ".join(f"{sql} AS k{i}" for i, sql in enumerate(source.key_sql))
    key_refs = ", ".join(f"k{i}" for i in range(len(source.key_sql)))
    bucket = f"CASE WHEN duration_ms IS NULL THEN -1 ELSE {hist.bucket_sql('duration_ms')} END"
    # One row per (hour, key, bucket): what the raw rows of that bucket add up to.
    sql = (
        f"SELECT hour, {key_refs}, bucket, COUNT(*) AS n, SUM(err) AS errors,"
        " SUM(duration_ms) AS dsum, MIN(duration_ms) AS dmin, MAX(duration_ms) AS dmax,"
        " MAX(created_at) AS last_at FROM ("
        f"SELECT {hour_floor(dialect, at)} AS hour, {keys}, {bucket} AS bucket,"
        f" {source.error_sql} AS err, duration_ms, {at} AS created_at FROM {raw}"
        f" WHERE {at} >= :start AND {at} < :end) b"
        f" GROUP BY hour, {key_refs}, bucket"
    )
    hourly: Tallies = {}
    daily: Tallies = {}
    rows = 0
    width = len(source.keys)
    for record in conn.execute(text(sql), bounds):
        hour = as_time(record[0])
        key = tuple(record[1 : 1 + width])
        bucket, n, errors, dsum, dmin, dmax, last_at = record[1 + width :]
        rows += n
        for period, tallies in ((hour, hourly), (day, daily)):
            tally = tallies.get((period, key))
            if tally is None:
                tally = tallies[(period, key)] = Tally()
            tally.calls += n
            tally.errors += int(errors)
            if bucket >= 0:
                tally.duration_count += n
                tally.duration_sum += float(dsum)
                tally.buckets[bucket] += n
            tally._extremes(dmin, dmax, as_time(last_at))
    add_tallies(conn, source, hourly, daily)
    return rows


@dataclass(frozen=True)
class RebuildResult:
    table: str
    days: int
    rows: int
    since: datetime | None


def rebuild(
    engine: Engine,
    since: datetime | None = None,
    *,
    tables: Sequence[str] = tuple(REBUILT),
    progress: Callable[[str, datetime], None] | None = None,
) -> list[RebuildResult]:
    """Recompute the rollups from raw rows from the UTC day of ``since`` on (or all of
    them, dropping rollups whose raw rows were pruned). One transaction per day."""
    results = []
    for name in tables:
        source = REBUILT[name]
        start = day_start(since) if since is not None else None
        with engine.begin() as conn:
            dialect = conn.dialect.name
            # Rollups before the first raw row (or before ``since``) stay, unless all go.
            for table in (source.hourly, source.daily):
                if start is None:
                    conn.execute(text(f"DELETE FROM {table.name}"))
                else:
                    conn.execute(
                        text(f"DELETE FROM {table.name} WHERE period_start >= :start"),
                        {"start": time_param(start, dialect)},
                    )
        days = rows = 0
        for day in _days_to_rebuild(engine, source, start):
            if progress is not None:
                progress(name, day)
            with engine.begin() as conn:
                rows += _rebuild_day(conn, source, day)
            days += 1
        results.append(RebuildResult(name, days, rows, since))
    return results


def _days_to_rebuild(
    connectable: Engine | Connection, source: RollupSource, start: datetime | None
) -> list[datetime]:
    """The UTC days from ``start`` (or the first raw row) to the last raw row."""
    at = source.time_column
    sql = text(f"SELECT MIN({at}), MAX({at}) FROM {source.raw.name}")
    if isinstance(connectable, Engine):
        with connectable.connect() as conn:
            first, last = conn.execute(sql).one()
    else:
        first, last = connectable.execute(sql).one()
    if first is None:
        return []
    day = day_start(as_time(first))
    if start is not None:
        day = max(day, start)
    days = []
    while day <= day_start(as_time(last)):
        days.append(day)
        day += timedelta(1)
    return days


def rebuild_in(conn: Connection, source: RollupSource) -> int:
    """Roll up every raw row of ``source`` inside the caller's transaction (rollups empty)."""
    return sum(_rebuild_day(conn, source, day) for day in _days_to_rebuild(conn, source, None))
