"""Tables fit a 100-column terminal; ``--wide`` shows everything.

Each command runs through the real entry point on the in-process sandbox with
``COLUMNS=100``. At that width: no line is longer than 100, every header reads as its
column's words (never split inside one), times are relative ("5m ago"). With ``--wide``:
every column, every value in full, times to the second.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs

WIDTH = 100
RELATIVE = re.compile(r"^(now|\d+[smhd] ago|in \d+[smhd])$")
TO_THE_SECOND = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
# an ISO time with a fraction or a "T": what must never reach a table
RAW_TIME = re.compile(r"\d{2}:\d{2}:\d{2}\.\d|\d{4}-\d{2}-\d{2}T\d{2}")
LONG_TITLE = "Reconcile the Elevate wholesale price list with Unleashed before the end of month run"


@pytest.fixture(autouse=True)
def _terminal_of_100_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(WIDTH))


def header_text(key: str) -> str:
    """How a column's header reads: its words, which may wrap only between them."""
    return key.replace("_", " ")


def _tables(output: str) -> list[tuple[list[str], list[list[str]]]]:
    """Every rich table in ``output``: its headers (each column's header lines joined by a
    space) and its body rows (each column's cell lines joined by a space)."""
    tables = []
    lines = output.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("┏"):
            i += 1
            continue
        head: list[list[str]] = []
        i += 1
        while not lines[i].lstrip().startswith("┡"):
            head.append([c.strip() for c in lines[i].strip().strip("┃").split("┃")])
            i += 1
        i += 1
        body: list[list[str]] = []
        row: list[list[str]] = []
        while not lines[i].lstrip().startswith("└"):
            cells = [c.strip() for c in lines[i].strip().strip("│").split("│")]
            if cells[0] and row:  # a new row starts where the first column has text
                body.append([" ".join(p for p in parts if p) for parts in zip(*row, strict=True)])
                row = []
            row.append(cells)
            i += 1
        if row:
            body.append([" ".join(p for p in parts if p) for parts in zip(*row, strict=True)])
        headers = [" ".join(p for p in parts if p) for parts in zip(*head, strict=True)]
        tables.append((headers, body))
    return tables


def _assert_fits(output: str, columns_by_table: list[list[str]]) -> list[list[list[str]]]:
    """``output`` fits in WIDTH, each table's headers are whole column names (a subset, in
    order), every time in it is relative; returns each table's rows."""
    assert max(len(line) for line in output.splitlines()) <= WIDTH, output
    assert not RAW_TIME.search(output), output
    tables = _tables(output)
    assert len(tables) == len(columns_by_table), output
    for (headers, _), keys in zip(tables, columns_by_table, strict=True):
        expected = [header_text(k) for k in keys]
        assert headers == [h for h in expected if h in headers], (headers, expected)
        assert headers[0] == expected[0]
    return [body for _, body in tables]


def _assert_wide(output: str, columns_by_table: list[list[str]]) -> list[list[list[str]]]:
    assert "hidden:" not in output and not RAW_TIME.search(output)
    tables = _tables(output)
    for (headers, _), keys in zip(tables, columns_by_table, strict=True):
        assert headers == [header_text(k) for k in keys]
    return [body for _, body in tables]


def _column(rows: list[list[str]], headers: list[str], key: str) -> list[str]:
    index = headers.index(header_text(key))
    return [row[index] for row in rows]


def test_stats_fit_and_wide(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("sync", "executions").exit_code == 0
    data = json.loads(ops("stats", "--json").stdout)
    keys = [list(data[part][0]) for part in ("integrations", "workflows", "apis")]
    narrow = ops("stats")
    assert narrow.exit_code == 0, narrow.stderr
    tables = _tables(narrow.stdout)
    _assert_fits(narrow.stdout, keys)
    headers, rows = tables[0]
    assert all(RELATIVE.match(t) for t in _column(rows, headers, "last_activity"))
    for (headers, _), part in zip(tables, keys, strict=True):
        missing = [header_text(k) for k in part if header_text(k) not in headers]
        assert not missing or f"hidden: {', '.join(missing)}" in " ".join(narrow.stdout.split())
    wide = ops("stats", "--wide")
    _assert_wide(wide.stdout, keys)
    headers, rows = _tables(wide.stdout)[1]
    assert all(TO_THE_SECOND.match(t) for t in _column(rows, headers, "last_execution_at"))
    names = {w["workflow_name"] for w in data["workflows"]}
    assert set(_column(rows, headers, "workflow_name")) == names  # in full, unbroken


def test_logs_one_line_each_and_wide_in_full(ops, database) -> None:  # type: ignore[no-untyped-def]
    when = datetime.now(UTC) - timedelta(minutes=5, microseconds=123456)
    assert ops("db", "upgrade").exit_code == 0
    message = "could not reach the service " + "and here is why, at length " * 6
    engine = create_db_engine(database.url)
    with engine.begin() as conn:
        conn.execute(
            insert(integration_logs),
            [
                {
                    "source": "integration",
                    "service": "hubspot",
                    "level": "error",
                    "operation": "list_objects",
                    "message": message,
                    "business_id": "teelixir",
                    "created_at": when,
                }
            ],
        )
    engine.dispose()
    narrow = ops("logs")
    [line] = narrow.stdout.splitlines()
    assert len(line) <= WIDTH and line.endswith("…")
    assert line.startswith(f"{when:%Y-%m-%d %H:%M:%S} ERROR")
    assert not RAW_TIME.search(line)
    wide = ops("logs", "--wide")
    assert message.strip() in " ".join(wide.stdout.split("\n"))


def test_sync_table_fits(ops) -> None:  # type: ignore[no-untyped-def]
    keys = [["target", "fetched", "written", "failed", "watermark", "status", "message"]]
    narrow = ops("sync", "executions")
    assert narrow.exit_code == 0, narrow.stderr
    [rows] = _assert_fits(narrow.stdout, keys)
    headers = _tables(narrow.stdout)[0][0]
    if "watermark" in headers:
        assert all(RELATIVE.match(t) for t in _column(rows, headers, "watermark") if t)
    wide = ops("sync", "executions", "--wide")
    [rows] = _assert_wide(wide.stdout, keys)
    watermarks = _column(rows, _tables(wide.stdout)[0][0], "watermark")
    assert watermarks and all(TO_THE_SECOND.match(t) for t in watermarks if t)


def test_health_table_fits(ops) -> None:  # type: ignore[no-untyped-def]
    keys = [["business", "service", "status", "latency", "breaker", "message"]]
    narrow = ops("health", "--no-alerts")
    assert narrow.exit_code == 0, narrow.stderr
    [rows] = _assert_fits(narrow.stdout, keys)
    assert len(rows) == 13  # the platform database and 3 services of 4 businesses
    _assert_wide(ops("health", "--no-alerts", "--wide").stdout, keys)


def test_tasks_list_fits_and_wide_shows_the_whole_title(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("tasks", "add", LONG_TITLE, "--business", "elevate").exit_code == 0
    keys = [["id", "status", "priority", "business", "category", "title", "retry_count",
             "updated_at"]]  # fmt: skip
    narrow = ops("tasks", "list")
    [rows] = _assert_fits(narrow.stdout, keys)
    headers = _tables(narrow.stdout)[0][0]
    assert _column(rows, headers, "title") == [LONG_TITLE]  # wrapped between words
    assert all(RELATIVE.match(t) for t in _column(rows, headers, "updated_at"))
    wide = ops("tasks", "list", "--wide")
    [rows] = _assert_wide(wide.stdout, keys)
    assert LONG_TITLE in wide.stdout  # on one line
    assert TO_THE_SECOND.match(_column(rows, _tables(wide.stdout)[0][0], "updated_at")[0])


def test_workflows_list_fits(ops) -> None:  # type: ignore[no-untyped-def]
    keys = [["id", "name", "active", "tags", "updated"]]
    narrow = ops("workflows", "list")
    assert narrow.exit_code == 0, narrow.stderr
    [rows] = _assert_fits(narrow.stdout, keys)
    headers = _tables(narrow.stdout)[0][0]
    assert all(RELATIVE.match(t) for t in _column(rows, headers, "updated"))
    wide = ops("workflows", "list", "--wide")
    [rows] = _assert_wide(wide.stdout, keys)
    names = {w["name"] for w in json.loads(ops("workflows", "list", "--json").stdout)}
    assert set(_column(rows, _tables(wide.stdout)[0][0], "name")) == names


def test_db_status_fits(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("db", "upgrade").exit_code == 0
    narrow = ops("db", "status")
    assert narrow.exit_code == 0, narrow.stderr
    [rows] = _assert_fits(narrow.stdout, [["table", "rows"]])
    assert "api_metrics" in {row[0] for row in rows}
    assert "api_metrics" in ops("db", "status", "--wide").stdout


def test_a_table_without_wide_points_to_json(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("test", "hubspot", "-b", "teelixir").exit_code == 0  # api_metrics rows
    result = ops("db", "query", "api_metrics")
    assert result.exit_code == 0, result.stderr
    keys = list(json.loads(ops("db", "query", "api_metrics", "--json").stdout)[0])
    [rows] = _assert_fits(result.stdout, [keys])
    assert rows and "(--json shows every column)" in " ".join(result.stdout.split())
