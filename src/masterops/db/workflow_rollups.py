"""The triggers that keep the workflow execution rollups (migration 0020).

An execution's row is written when the sync first sees it (often still running) and
updated as it finishes, by an upsert in sync/executions.py. So unlike the log tables,
whose rows never change, its rollups are kept by row-level triggers on both databases:
an INSERT adds the new row to its hour and day, an UPDATE that changes what the
rollups count (start, status, duration, workflow) subtracts the old row and
adds the new one. The counters and histogram are sums, so subtracting is exact; the
extremes and ``last_at`` cannot be undone but stay true of the same execution (its start
does not change), and the summaries read neither extreme. Deleting rows (retention)
leaves the rollups as they are, like those of the log tables.

Each change is applied in the writer's transaction, under the raw row's lock: right
under concurrent syncs and late rows. ``rollups.rebuild`` recomputes them if need be.
"""

from __future__ import annotations

from sqlalchemy import Connection

from masterops.db import latency_histogram as hist
from masterops.db import sql_time
from masterops.db.rollups import WORKFLOW_EXECUTIONS, RollupSource, on_conflict_sql, rollup_columns

_FUNCTION = "masterops_workflow_rollups"
_TRIGGERS = ("masterops_workflow_rollups_ins", "masterops_workflow_rollups_upd")
#: The columns the rollups depend on: an UPDATE of others changes nothing there.
_COUNTED = ("started_at", "status", "duration_ms", "workflow_id", "workflow_name")


def _add(source: RollupSource, dialect: str, row: str, sign: int) -> list[str]:
    """Statements adding (``sign`` 1) or subtracting (-1) the row ``row`` (NEW or OLD)
    to its hourly and daily rollup rows."""
    at = source.time_column
    raw_columns = ", ".join(f"{row}.{c} AS {c}" for c in _COUNTED)
    keys = ", ".join(source.key_sql)
    bucket = f"CASE WHEN duration_ms IS NULL THEN -1 ELSE {hist.bucket_sql('duration_ms')} END"
    buckets = ", ".join(f"CASE WHEN b = {i} THEN {sign} ELSE 0 END" for i in range(hist.BUCKETS))
    # A subtraction leaves the extremes as they are (NULL never wins; see _pick).
    extremes = "duration_ms, duration_ms" if sign > 0 else "NULL, NULL"
    statements = []
    for table, floor in (
        (source.hourly, sql_time.hour_floor(dialect, at)),
        (source.daily, sql_time.day_floor(dialect, at)),
    ):
        columns = ", ".join(rollup_columns(source.keys))
        statements.append(
            f"INSERT INTO {table.name} ({columns})"
            f" SELECT {floor}, {keys}, {sign}, {sign} * ({source.error_sql}),"
            f" CASE WHEN duration_ms IS NULL THEN 0 ELSE {sign} END,"
            f" {sign} * COALESCE(duration_ms, 0), {buckets}, {extremes}, {at}"
            f" FROM (SELECT *, {bucket} AS b FROM (SELECT {raw_columns}) r) x"
            f" WHERE {at} IS NOT NULL"  # also settles SQLite's parse of ON CONFLICT
            + on_conflict_sql(table, source.keys)
            + ";"
        )
    return statements


def _changed(dialect: str) -> str:
    op = "IS DISTINCT FROM" if dialect == "postgresql" else "IS NOT"
    return " OR ".join(f"OLD.{c} {op} NEW.{c}" for c in _COUNTED)


def install_sql(dialect: str, source: RollupSource = WORKFLOW_EXECUTIONS) -> list[str]:
    raw = source.raw.name
    add_new = " ".join(_add(source, dialect, "NEW", 1))
    sub_old = " ".join(_add(source, dialect, "OLD", -1))
    if dialect == "postgresql":
        return [
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF TG_OP = 'UPDATE' THEN {sub_old} END IF; {add_new}"
            " RETURN NULL; END $$",
            f"CREATE TRIGGER {_TRIGGERS[0]} AFTER INSERT ON {raw}"
            f" FOR EACH ROW EXECUTE FUNCTION {_FUNCTION}()",
            f"CREATE TRIGGER {_TRIGGERS[1]} AFTER UPDATE ON {raw}"
            f" FOR EACH ROW WHEN ({_changed(dialect)}) EXECUTE FUNCTION {_FUNCTION}()",
        ]
    return [
        f"CREATE TRIGGER {_TRIGGERS[0]} AFTER INSERT ON {raw} BEGIN {add_new} END",
        f"CREATE TRIGGER {_TRIGGERS[1]} AFTER UPDATE ON {raw}"
        f" WHEN {_changed(dialect)} BEGIN {sub_old} {add_new} END",
    ]


def install(conn: Connection) -> None:
    for statement in install_sql(conn.dialect.name):
        conn.exec_driver_sql(statement)


def uninstall(conn: Connection) -> None:
    raw = WORKFLOW_EXECUTIONS.raw.name
    for trigger in _TRIGGERS:
        on = f" ON {raw}" if conn.dialect.name == "postgresql" else ""
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {trigger}{on}")
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")
