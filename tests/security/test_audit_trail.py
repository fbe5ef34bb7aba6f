"""The audit trail on both databases: who, what (secrets never), when; append-only."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from masterops.db import audit
from masterops.db.api_tokens import create_token, digest
from masterops.db.tables import audit_log, products
from masterops.db.upsert import upsert


def _product(guid: str, price: float) -> dict[str, object]:
    return {
        "business_id": "teelixir",
        "unleashed_guid": guid,
        "product_code": f"P-{guid}",
        "default_sell_price": price,
        "is_obsolete": False,
        "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
    }


def test_changes_are_recorded_with_actor_old_and_new(engine: Engine) -> None:
    with audit.acting_as("cli:alice"), engine.begin() as conn:
        upsert(
            conn,
            products,
            [_product("g1", 10.0), _product("g2", 20.0)],
            keys=["business_id", "unleashed_guid"],
        )
    with audit.acting_as("worker:w1"), engine.begin() as conn:
        # g1 changes, g2 is rewritten unchanged: only g1's UPDATE is recorded.
        upsert(
            conn,
            products,
            [_product("g1", 11.5), _product("g2", 20.0)],
            keys=["business_id", "unleashed_guid"],
        )
    with audit.acting_as("api:dashboard"), engine.begin() as conn:
        conn.execute(delete(products).where(products.c.unleashed_guid == "g2"))

    with engine.connect() as conn:
        entries = list(reversed(audit.read_entries(conn, table="products")))
    assert [(e.operation, e.row_id, e.actor) for e in entries] == [
        ("INSERT", "teelixir/g1", "cli:alice"),
        ("INSERT", "teelixir/g2", "cli:alice"),
        ("UPDATE", "teelixir/g1", "worker:w1"),
        ("DELETE", "teelixir/g2", "api:dashboard"),
    ]
    changed = entries[2]
    assert changed.old is not None and changed.new is not None
    assert (changed.old["default_sell_price"], changed.new["default_sell_price"]) == (10.0, 11.5)
    assert changed.changed_columns() == ["default_sell_price"]
    assert entries[3].new is None and entries[3].old is not None
    assert entries[0].changed_at > datetime.now(UTC) - timedelta(minutes=5)


def test_filters_by_actor_prefix_and_since(engine: Engine) -> None:
    with audit.acting_as("api:reports"), engine.begin() as conn:
        conn.execute(insert(products).values(_product("g9", 1.0)))
    with engine.connect() as conn:
        assert len(audit.read_entries(conn, actor="api:")) == 1
        assert audit.read_entries(conn, actor="api:report") == []
        assert len(audit.read_entries(conn, actor="api:reports")) == 1
        future = datetime.now(UTC) + timedelta(hours=1)
        assert audit.read_entries(conn, since=future) == []


def test_unnamed_changes_name_the_database_login(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An in-process `ops` run earlier in this process named itself; this test names no one.
    monkeypatch.setattr("masterops.db.actor._process_actor", None)
    with engine.begin() as conn:
        conn.execute(insert(products).values(_product("g1", 1.0)))
    with engine.connect() as conn:
        (entry,) = audit.read_entries(conn)
    assert entry.actor.startswith("db:")


def test_each_thread_names_its_own_actor(engine: Engine) -> None:
    def write(actor: str, guid: str) -> None:
        with audit.acting_as(actor), engine.begin() as conn:
            conn.execute(insert(products).values(_product(guid, 1.0)))

    threads = [threading.Thread(target=write, args=(f"api:t{i}", f"g{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        entries = audit.read_entries(conn)
    assert {(e.row_id, e.actor) for e in entries} == {
        (f"teelixir/g{i}", f"api:t{i}") for i in range(4)
    }


def test_token_hashes_never_reach_the_audit(engine: Engine) -> None:
    with audit.acting_as("cli:alice"), engine.begin() as conn:
        _, token = create_token(conn, name="ci", scope="read")
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(audit_log))]
        (entry,) = audit.read_entries(conn, table="api_tokens")
    assert entry.new is not None and entry.new["name"] == "ci"
    assert "token_sha256" not in entry.new
    assert not [r for r in rows if digest(token) in repr(r) or token in repr(r)]


def test_audit_log_is_append_only_but_for_retention(engine: Engine) -> None:
    with audit.acting_as("cli:alice"), engine.begin() as conn:
        conn.execute(insert(products).values(_product("g1", 1.0)))
    for statement in (
        update(audit_log).values(changed_by="someone else"),
        delete(audit_log),
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.begin() as conn:
        assert audit.prune(conn, datetime.now(UTC) - timedelta(days=1)) == 0
        assert audit.prune(conn, datetime.now(UTC) + timedelta(seconds=5)) == 1
    with engine.connect() as conn:
        assert audit.read_entries(conn) == []


def test_every_audited_table_has_triggers(engine: Engine) -> None:
    from masterops.db.audit_ddl import AUDITED

    with engine.connect() as conn:
        assert audit.audited_tables(conn) == sorted(AUDITED)


def test_the_process_actor_reaches_threads_a_library_starts(engine: Engine) -> None:
    def write() -> None:  # e.g. a DBOS step: a thread that never saw acting_as
        with engine.begin() as conn:
            conn.execute(insert(products).values(_product("g1", 1.0)))

    audit.set_process_actor("worker:w7")
    try:
        thread = threading.Thread(target=write)
        thread.start()
        thread.join()
    finally:
        audit.set_process_actor(None)
    with engine.connect() as conn:
        (entry,) = audit.read_entries(conn)
    assert entry.actor == "worker:w7"
