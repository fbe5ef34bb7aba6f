"""``ops export``: tables and views streamed out as CSV or JSON Lines, only from the
allow-list, in chunks from a server-side cursor (both databases)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, text

from masterops.db.tables import api_metrics
from masterops.reports.export import exportable, stream_chunks


def test_csv_of_a_table_for_one_business(seeded: Engine, ops) -> None:
    result = ops("export", "orders", "--business", "teelixir")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["unleashed_guid"] for r in rows) == ["o1", "o2", "o3", "o4", "o5", "o6"]
    assert rows[0]["order_date"].endswith("+00:00")
    assert "exported 6 row(s) of orders" in result.stderr


def test_json_lines_since_a_time(seeded: Engine, ops) -> None:
    result = ops("export", "integration_logs", "--format", "json", "--since", "2026-04-05T02:00")
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(r["message"] for r in records) == ["HTTP 502 last", "slow", "timeout"]
    assert all(r["created_at"] >= "2026-04-05T02:00" for r in records)


def test_a_view_to_a_file(seeded: Engine, ops, tmp_path: Path) -> None:
    target = tmp_path / "errors.csv"
    result = ops("export", "recent_errors", "--business", "teelixir", "--output", str(target))
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(target.open()))
    assert {r["message"] for r in rows} >= {"HTTP 500 first", "timeout"}
    assert f"to {target}" in result.stdout


def test_token_hashes_are_never_exported(ops_cli) -> None:
    assert "api_tokens" not in exportable()
    result = ops_cli("export", "api_tokens")
    assert result.exit_code != 0
    assert "cannot export 'api_tokens': no such table or view" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "prodcts"), "no such table or view; did you mean 'products'?"),
        (("export", "orders", "--format", "xml"), "--format must be one of csv, json"),
        (("export", "orders", "--since", "yesterday"), "--since: 'yesterday' is neither"),
        (("export", "orders", "--business", "nope"), "--business: unknown business 'nope'"),
        (("export", "api_quota_usage", "--business", "boo"), "has no business column"),
        (("export", "api_performance_summary", "--since", "1d"), "has no time column"),
    ],
)
def test_bad_input_is_one_line(ops_cli, args: tuple[str, ...], message: str) -> None:
    result = ops_cli(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_rows_arrive_in_chunks_from_a_server_side_cursor(engine: Engine) -> None:
    when = datetime(2026, 4, 5, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(api_metrics),
            [
                {"service": "hubspot", "endpoint": f"/e/{i}", "method": "GET", "success": True,
                 "duration_ms": 1.0, "created_at": when}
                for i in range(10)
            ],
        )  # fmt: skip
    with engine.connect() as conn:
        selection, chunks = stream_chunks(conn, "api_metrics", chunk_rows=3)
        first = next(chunks)
        if engine.dialect.name == "postgresql":
            # Mid-export the rows still wait on the server, in a named cursor.
            # (The unnamed portal running this very query is not one.)
            named = conn.execute(text("SELECT count(*) FROM pg_cursors WHERE name <> ''"))
            assert named.scalar_one() == 1
        rest = list(chunks)
    assert [len(c) for c in [first, *rest]] == [3, 3, 3, 1]
    assert [r["endpoint"] for c in [first, *rest] for r in c] == [f"/e/{i}" for i in range(10)]
    assert "endpoint" in selection.columns and selection.time_column == "created_at"
