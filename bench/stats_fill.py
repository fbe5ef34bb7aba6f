"""Fill the log tables of bench/stats_at_scale.py fast: rows made by the database itself
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite), a million per statement.

The rows look like the sink's (same services, endpoints, businesses, status and latency
distributions as the bench's Python rows), in time order (oldest first, as a live
system writes) or in random order (a backfill: the table's physical order has nothing
to do with ``created_at``). The rollups are then built by ``rollups.rebuild``, which
the bench times on its own: that is ``ops stats rebuild`` (so the executions' triggers
are off while they are made).
"""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Connection, Engine, text

from masterops.db import workflow_rollups
from masterops.db.types import time_param

#: Rows a statement. Each chunk must finish inside the platform's statement timeout
#: (60 s by default): 1M rows in random time order took longer on PostgreSQL here, as
#: every row lands on another index page.
CHUNK = 200_000
#: (service, endpoint, operation, method), as the bench's Python rows.
CALLS = (
    ("hubspot", "/crm/v3/objects/{type}/batch/upsert", "upsert", "POST"),
    ("hubspot", "/crm/v3/objects/{type}/search", "search", "GET"),
    ("unleashed", "/Products", "Products", "GET"),
    ("unleashed", "/StockOnHand", "StockOnHand", "GET"),
    ("unleashed", "/SalesOrders", "SalesOrders", "GET"),
    ("n8n", "/api/v1/executions", "executions", "GET"),
    ("n8n", "/api/v1/workflows", "workflows", "GET"),
)
BUSINESSES = ("teelixir", "elevate", "boo", "rhf")


class Dialect:
    """The few expressions that differ: a uniform number in (0, 1), the series of row
    numbers, array picks and how a created_at is made from an age in seconds."""

    def __init__(self, name: str) -> None:
        self.name = name

    def uniform(self) -> str:
        if self.name == "postgresql":
            return "(1.0 - random())"  # (0, 1]: ln() never sees 0
        return "((abs(random()) % 999999999) + 1) / 1e9"

    def pick(self, values: tuple[str, ...], index: str) -> str:
        """The ``index``-th (0-based) of ``values``."""
        whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
        return f"(CASE {index} {whens} END)"

    def pick_random(self, values: tuple[str, ...]) -> str:
        return self.pick(values, self.index(len(values)))

    def index(self, n: int) -> str:
        if self.name == "postgresql":
            return f"CAST(floor(random() * {n}) AS INTEGER)"
        return f"(abs(random()) % {n})"

    def lognormal(self, mu: float, sigma: float) -> str:
        """Box-Muller: one normal from two uniforms."""
        normal = f"sqrt(-2 * ln({self.uniform()})) * cos(2 * pi() * {self.uniform()})"
        return f"round(CAST(exp({mu} + {sigma} * {normal}) AS NUMERIC), 3)"

    def series(self, body: str) -> str:
        """``body`` (a SELECT using ``i``) for each ``i`` from ``:lo`` to ``:hi``. Each
        row's random draws are made once, however often the outer SELECT names them:
        PostgreSQL never inlines a sub-query with volatile functions, SQLite would."""
        if self.name == "postgresql":
            numbers = "generate_series(CAST(:lo AS BIGINT), CAST(:hi AS BIGINT)) AS g(i)"
            return body.replace("{FROM}", f"FROM {numbers}")
        return (
            "WITH RECURSIVE g(i) AS (SELECT :lo UNION ALL SELECT i + 1 FROM g WHERE i < :hi),"
            f" r AS MATERIALIZED ({body.replace('{FROM}', 'FROM g')}) SELECT * FROM r"
        )

    def created(self, age_seconds: str) -> str:
        if self.name == "postgresql":
            return f"(CAST(:now AS timestamptz) - {age_seconds} * interval '1 second')"
        return (
            f"(strftime('%Y-%m-%d %H:%M:%f', julianday(:now) - ({age_seconds}) / 86400.0) || '000')"
        )


def _age(d: Dialect, n: int, span: float, order: str) -> str:
    if order == "time":
        return f"(60 + {span - 60} * (1 - (i + 0.5) / {n}))"
    return f"(60 + {span - 60} * {d.uniform()})"


def _metrics_sql(d: Dialect, n: int, span: float, order: str) -> str:
    status = (
        f"CASE WHEN {d.uniform()} > 0.03 THEN 200"
        f" ELSE CAST({d.pick(('429', '500', '503', '404'), d.index(4))} AS INTEGER) END"
    )
    call = d.index(len(CALLS))
    inner = (
        f"SELECT {call} AS c, {status} AS code, {d.lognormal(5.0, 0.7)} AS duration,"
        f" {d.pick_random(BUSINESSES)} AS business, {d.created(_age(d, n, span, order))} AS at"
        " {FROM}"
    )
    column = {k: tuple(call[i] for call in CALLS) for i, k in enumerate(("s", "e", "o", "m"))}
    return (
        "INSERT INTO api_metrics (service, endpoint, method, status_code, success, duration_ms,"
        " operation, business_id, created_at)"
        f" SELECT {d.pick(column['s'], 'c')}, {d.pick(column['e'], 'c')},"
        f" {d.pick(column['m'], 'c')}, code, code < 400, duration, {d.pick(column['o'], 'c')},"
        f" business, at FROM ({d.series(inner)}) r"
    )


def _logs_sql(d: Dialect, n: int, span: float, order: str) -> str:
    level = f"CASE WHEN {d.uniform()} < 0.9 THEN 'info' ELSE {d.pick_random(('warn', 'error'))} END"
    inner = (
        f"SELECT {level} AS level, {d.pick_random(('integration', 'sync', 'health'))} AS source,"
        f" {d.pick_random(('hubspot', 'unleashed', 'n8n'))} AS service,"
        f" {d.pick_random(('push', 'pull', 'check'))} AS operation,"
        f" {d.lognormal(4.0, 1.0)} AS duration, {d.pick_random(BUSINESSES)} AS business,"
        f" {d.created(_age(d, n, span, order))} AS at {{FROM}}"
    )
    return (
        "INSERT INTO integration_logs (source, service, operation, level, status, message,"
        " duration_ms, business_id, created_at)"
        " SELECT source, service, operation, level,"
        " CASE WHEN level = 'info' THEN 'ok' ELSE 'failed' END, 'bench line',"
        " CASE WHEN level = 'info' THEN NULL ELSE duration END, business, at"
        f" FROM ({d.series(inner)}) r"
    )


def _workflows_sql(d: Dialect, n: int, span: float, order: str) -> str:
    inner = (
        f"SELECT i, 'wf' || CAST({d.index(40)} + 1 AS VARCHAR(8)) AS wf,"
        f" CASE WHEN {d.uniform()} < 0.95 THEN 'success' ELSE 'error' END AS status,"
        f" {d.lognormal(7.0, 1.0)} AS duration, {d.pick_random(BUSINESSES)} AS business,"
        f" {d.created(_age(d, n, span, order))} AS at {{FROM}}"
    )
    return (
        "INSERT INTO workflow_execution_logs (workflow_id, workflow_name, instance,"
        " execution_id, status, mode, started_at, finished_at, duration_ms, business_id,"
        " created_at)"
        " SELECT wf, 'bench', '', CAST(i AS VARCHAR(20)), status, 'trigger', at, at,"
        f" duration, business, at FROM ({d.series(inner)}) r"
    )


def _fill(conn: Connection, sql: str, n: int, now: datetime) -> None:
    for lo in range(0, n, CHUNK):
        params = {"lo": lo, "hi": min(lo + CHUNK, n) - 1, "now": time_param(now, conn.dialect.name)}
        conn.execute(text(sql), params)
        conn.commit()


def fill(engine: Engine, n: int, days: int, order: str, now: datetime) -> float:
    """N API calls and N log lines, N/10 workflow executions over ``days``; seconds."""
    started = time.perf_counter()
    d = Dialect(engine.dialect.name)
    span = days * 86400.0
    executions = max(n // 10, 1)
    with engine.connect() as conn:
        for make, rows in ((_metrics_sql, n), (_logs_sql, n)):
            _fill(conn, make(d, rows, span, order), rows, now)
        # The rebuild that follows rolls executions up: their triggers would do it twice.
        workflow_rollups.uninstall(conn)
        _fill(conn, _workflows_sql(d, executions, span, order), executions, now)
        workflow_rollups.install(conn)
        conn.commit()
    return time.perf_counter() - started
