"""The telemetry tables carry only indexes a query needs (each costs every insert its
upkeep), and the queries that read them by time still find an index."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect, text

from masterops.db.queries import prunable_counts, prune, query_logs

LOG_TABLES = ("integration_logs", "api_metrics", "workflow_execution_logs")


def _indexes(engine: Engine, table: str) -> list[tuple[str, ...]]:
    return [tuple(ix["column_names"]) for ix in inspect(engine).get_indexes(table)]


@pytest.mark.parametrize("table", LOG_TABLES)
def test_no_log_index_is_the_leading_part_of_another(engine: Engine, table: str) -> None:
    """An index whose columns lead another index serves no query the longer one does not,
    and every insert pays for it."""
    indexes = _indexes(engine, table)
    for short in indexes:
        for long in indexes:
            assert not (len(short) < len(long) and long[: len(short)] == short), (
                f"{table}: index {short} is the leading part of {long}"
            )


def _plan(engine: Engine, sql: str, params: dict[str, object]) -> str:
    """The plan of ``sql`` as text; on PostgreSQL with sequential scans priced out, so an
    empty table still shows whether an index can serve the query."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            rows = conn.execute(text(f"EXPLAIN {sql}"), params).all()
            return "\n".join(str(r[0]) for r in rows)
        rows = conn.execute(text(f"EXPLAIN QUERY PLAN {sql}"), params).all()
        return "\n".join(str(r[-1]) for r in rows)


TIME_QUERIES = [
    # ops db prune (and its count), the rollup rebuild's day, ops logs --since/--until.
    "SELECT count(*) FROM {table} WHERE created_at < :t",
    "DELETE FROM {table} WHERE created_at < :t",
    "SELECT * FROM {table} WHERE created_at >= :t AND created_at < :u",
    "SELECT * FROM {table} ORDER BY created_at DESC LIMIT 100",
]


@pytest.mark.parametrize("table", ["integration_logs", "api_metrics"])
@pytest.mark.parametrize("query", TIME_QUERIES)
def test_time_window_queries_use_an_index(engine: Engine, table: str, query: str) -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    u = datetime(2026, 1, 2, tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        params: dict[str, object] = {"t": "2026-01-01 00:00:00.000000"}
        params["u"] = "2026-01-02 00:00:00.000000"
    else:
        params = {"t": t, "u": u}
    plan = _plan(engine, query.format(table=table), params)
    assert "INDEX" in plan.upper(), plan
    assert "created_at" in plan, plan


def test_reads_by_time_still_answer(engine: Engine) -> None:
    """The queries behind ops logs and ops db prune run as before on the slimmer tables."""
    cutoff = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as conn:
        assert query_logs(conn, since=cutoff) == []
        assert prunable_counts(conn, cutoff, ["integration_logs", "api_metrics"]) == {
            "integration_logs": 0,
            "api_metrics": 0,
        }
        assert prune(conn, cutoff, ["integration_logs", "api_metrics"]) == {
            "integration_logs": 0,
            "api_metrics": 0,
        }
