"""The telemetry write path (``RawInsert``): COPY on PostgreSQL, multi-row INSERT on
SQLite. Rows read back exactly as SQLAlchemy's own INSERT stores them, odd text included,
and a bad row fails its whole batch as before."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, insert, select
from sqlalchemy.exc import DataError

from masterops.db.tables import api_metrics, integration_logs
from masterops.observability.batch_writer import BatchWriter
from masterops.observability.raw_insert import RawInsert
from sql_statements import recorded_statements

ODD_TEXT = [
    "plain",
    "",
    "tab\there",
    "new\nline and\r\ncrlf",
    "back\\slash \\N \\t \\\\",  # what COPY's text format would misread unescaped
    "quote ' and \" and ;--",
    "unicode: café, 東京, 🚀, \u2028",
    "x" * 5_000,
]


def _log(i: int, message: str) -> dict[str, Any]:
    return {
        "source": "sync",
        "service": "hubspot" if i % 2 else None,
        "operation": "batch_upsert",
        "level": "info",
        "status": None if i % 3 else "success",
        "message": message,
        "details_json": None
        if i % 4 == 3
        else {"text": message, "n": i, "nested": {"list": [1, 2.5, None, True]}},
        "duration_ms": None if i % 5 == 4 else i * 0.25,
        "business_id": "teelixir",
        "workflow_id": None,
        "integration_id": None,
        "user_id": None,
        # Another zone in, UTC out: the same instant either way.
        "created_at": datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=10)))
        + timedelta(microseconds=i),
    }


def _metric(i: int) -> dict[str, Any]:
    return {
        "service": "unleashed",
        "endpoint": "/Products/{page}",
        "method": "GET",
        "status_code": 200 if i % 2 else None,
        "success": i % 3 == 0,
        "duration_ms": 1.5 * i,
        "response_size_bytes": i,
        "rate_limit_remaining": None,
        "rate_limit_reset_at": datetime(2026, 3, 1, tzinfo=UTC) if i % 2 else None,
        "error_category": None,
        "error_message": None if i == 11 else ODD_TEXT[i % len(ODD_TEXT)],
        "operation": "list",
        "business_id": "elevate",
        "created_at": datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=i),
    }


def _read(engine: Engine, table: Table) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.id)).all()
    return [{k: v for k, v in row._mapping.items() if k != "id"} for row in rows]


def _write_both_ways(engine: Engine, table: Table, rows: list[dict[str, Any]]) -> tuple[Any, Any]:
    """What RawInsert stored, and what SQLAlchemy's INSERT stores for the same rows."""
    with engine.begin() as conn:
        RawInsert(table).execute(conn, rows)
    raw = _read(engine, table)
    with engine.begin() as conn:
        conn.execute(delete(table))
        conn.execute(insert(table), rows)
    return raw, _read(engine, table)


def test_odd_values_read_back_as_sqlalchemy_stores_them(engine: Engine) -> None:
    logs = [_log(i, text) for i, text in enumerate(ODD_TEXT)]
    raw, reference = _write_both_ways(engine, integration_logs, logs)
    assert raw == reference
    assert [row["message"] for row in raw] == ODD_TEXT
    assert raw[2]["details_json"]["text"] == "tab\there"
    assert raw[0]["created_at"] == datetime(2026, 3, 1, 2, tzinfo=UTC)

    metrics = [_metric(i) for i in range(12)]
    raw, reference = _write_both_ways(engine, api_metrics, metrics)
    assert raw == reference
    assert [row["success"] for row in raw[:4]] == [True, False, False, True]
    assert [row["error_message"] for row in raw[:8]] == ODD_TEXT and raw[11][
        "error_message"
    ] is None


def test_a_large_batch_keeps_every_row_in_order(engine: Engine) -> None:
    # More rows than one SQLite statement takes, with a part-full last statement.
    rows = [_log(i, f"row {i}\t{ODD_TEXT[i % len(ODD_TEXT)][:20]}") for i in range(2_345)]
    with recorded_statements(engine) as statements, engine.begin() as conn:
        RawInsert(integration_logs).execute(conn, rows)
    if engine.dialect.name == "postgresql":
        # One COPY stream on the driver's cursor, no INSERT; the first batch of a writer
        # reads the columns' types once (for the binary format).
        assert not any("INSERT" in s for s in statements)
        assert len(statements) <= 1 and "pg_attribute" in "".join(statements)
    else:  # 500 rows a statement: 4 full ones and the rest
        assert [s.count("), (") + 1 for s in statements] == [500, 500, 500, 500, 345]
    stored = _read(engine, integration_logs)
    assert len(stored) == 2_345
    assert [row["message"] for row in stored] == [row["message"] for row in rows]
    assert stored[-1]["details_json"]["n"] == 2_344


def test_nul_in_text_is_refused_on_postgresql_and_kept_on_sqlite(engine: Engine) -> None:
    rows = [_log(0, "fine"), _log(1, "nul \x00 inside")]
    insert_rows = RawInsert(integration_logs)
    if engine.dialect.name == "postgresql":
        # PostgreSQL text cannot hold NUL: the batch fails as an INSERT of it fails.
        # The binary COPY's message: invalid byte sequence ... 0x00, with the column.
        with pytest.raises(DataError, match="0x00"), engine.begin() as conn:
            insert_rows.execute(conn, rows)
        assert _read(engine, integration_logs) == []
    else:
        with engine.begin() as conn:
            insert_rows.execute(conn, rows)
        assert [row["message"] for row in _read(engine, integration_logs)] == [
            "fine",
            "nul \x00 inside",
        ]


def test_a_naive_timestamp_fails_the_batch(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite stores a naive time as local time, as it always did")
    rows = [_log(0, "fine"), {**_log(1, "naive"), "created_at": datetime(2026, 3, 1)}]
    with pytest.raises(ValueError, match="naive"), engine.begin() as conn:
        RawInsert(integration_logs).execute(conn, rows)
    assert _read(engine, integration_logs) == []


def test_the_writer_drops_a_failed_batch_and_writes_the_next(engine: Engine) -> None:
    fallback = io.StringIO()
    writer = BatchWriter(engine, integration_logs, flush_interval=60.0, fallback=fallback)
    bad = "nul \x00" if engine.dialect.name == "postgresql" else None
    bad_row = _log(1, "bad")
    if bad is not None:
        bad_row["message"] = bad
    else:
        bad_row["created_at"] = "not a time"  # SQLite keeps NUL: fail it another way
    writer.put(_log(0, "first batch"))
    writer.put(bad_row)
    assert writer.flush()
    writer.put(_log(2, "second batch"))
    writer.close()
    assert writer.stats.failed_batches == 1
    assert writer.stats.dropped == 2 and writer.stats.written == 1
    assert [row["message"] for row in _read(engine, integration_logs)] == ["second batch"]
    report = json.loads(fallback.getvalue().splitlines()[0])
    assert report["event"] == "telemetry_write_failed" and report["rows"] == 2


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=10))),
        datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(999, 1, 1, tzinfo=UTC),  # SQLAlchemy pads the year; strftime did not
    ],
)
def test_timestamps_are_stored_as_the_same_text(engine: Engine, moment: datetime) -> None:
    row = {**_log(0, "raw"), "created_at": moment}
    with engine.begin() as conn:
        RawInsert(integration_logs).execute(conn, [row])
        conn.execute(insert(integration_logs), [{**row, "message": "sqlalchemy"}])
    with engine.connect() as conn:
        stored = conn.exec_driver_sql(
            "SELECT message, created_at FROM integration_logs ORDER BY id"
        ).all()
    assert [message for message, _ in stored] == ["raw", "sqlalchemy"]
    assert stored[0][1] == stored[1][1]  # on SQLite: the very text SQLAlchemy writes


def test_an_integer_beyond_the_column_fails_the_batch(engine: Engine) -> None:
    """The binary COPY would send only the low four bytes of a too-large integer: it
    must be refused, as the server refuses it in an INSERT, never stored wrapped."""
    rows = [_metric(1), {**_metric(3), "response_size_bytes": 2**40}]
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite keeps any 64-bit integer, as it always did")
    with (
        pytest.raises(ValueError, match=r"response_size_bytes.*out of range"),
        engine.begin() as conn,
    ):
        RawInsert(api_metrics).execute(conn, rows)
    assert _read(engine, api_metrics) == []
    with engine.begin() as conn:  # the edges of a 4-byte integer still go in
        RawInsert(api_metrics).execute(
            conn, [{**_metric(1), "response_size_bytes": 2**31 - 1, "status_code": -(2**31)}]
        )
    stored = _read(engine, api_metrics)
    assert [(r["response_size_bytes"], r["status_code"]) for r in stored] == [(2**31 - 1, -(2**31))]


def test_details_json_reads_back_as_json_dumps_with_str_makes_it(engine: Engine) -> None:
    """Whatever JSON encoder writes them, details read back as ``json.dumps(value,
    default=str)`` turns them: keys as strings, times and others through str, integers
    of any size."""
    details = {
        1: "int key",
        "when": datetime(2026, 3, 1, 12, 30, tzinfo=UTC),
        "big": 2**70,
        "nested": {"list": [1, 2.5, None, True, "x"], "tuple": (1, 2)},
        "text": 'tab\t, quote ", unicode 東京 🚀',
    }
    with engine.begin() as conn:
        RawInsert(integration_logs).execute(conn, [{**_log(0, "json"), "details_json": details}])
    stored = _read(engine, integration_logs)[0]["details_json"]
    assert stored == json.loads(json.dumps(details, default=str))
    assert stored["when"] == "2026-03-01 12:30:00+00:00" and stored["big"] == 2**70


def test_a_column_type_outside_the_binary_set_goes_by_the_text_format(engine: Engine) -> None:
    """A table with a type the binary COPY does not write (numeric) still takes its rows,
    by COPY's text format, with the same values read back as SQLAlchemy's INSERT stores."""
    if engine.dialect.name == "sqlite":
        pytest.skip("PostgreSQL's COPY formats; SQLite's INSERT converts telemetry's types")
    from decimal import Decimal

    from sqlalchemy import Column, Integer, MetaData, Numeric, Text

    from masterops.db.types import JSONType, UTCDateTime

    odd = Table(
        "raw_insert_odd",
        MetaData(),
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("amount", Numeric(12, 2)),
        Column("note", Text),
        Column("details", JSONType),
        Column("at", UTCDateTime()),
    )
    odd.create(engine)
    rows = [
        {
            "amount": Decimal("12.50") if i % 2 else None,
            "note": ODD_TEXT[i % len(ODD_TEXT)],
            "details": {"i": i, "text": ODD_TEXT[i % len(ODD_TEXT)]} if i % 3 else None,
            "at": datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=i),
        }
        for i in range(10)
    ]
    raw, reference = _write_both_ways(engine, odd, rows)
    assert raw == reference
    assert [row["note"] for row in raw] == [row["note"] for row in rows]
