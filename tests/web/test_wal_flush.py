"""The SQLite inbox's commits flushed outside SQLite's write lock (``wal_flush.py``):
every accepted delivery is stored, whatever became of the WAL file between commits, and
several transactions are in flight on both backends."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Engine, create_engine, select

from masterops.db.tables import webhook_inbox
from masterops.web.group_commit import GroupCommit
from masterops.web.inbox import InboxEvent
from masterops.web.wal_flush import WalFlush


def _event(event_id: str) -> InboxEvent:
    return InboxEvent(
        source="hubspot",
        event_id=event_id,
        business_id="teelixir",
        subscription_type="contact.creation",
        object_id="7",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        payload={"eventId": event_id},
    )


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(webhook_inbox.c.id)).all())


def test_only_a_sqlite_database_file_has_a_wal_to_flush(engine: Engine) -> None:
    flush = WalFlush.of(engine)
    if engine.dialect.name == "postgresql":
        assert flush is None  # the server flushes its own WAL at each commit
    else:
        assert flush is not None and flush.wal.name.endswith(".db-wal")
    assert WalFlush.of(create_engine("sqlite://")) is None  # in memory: no file at all


async def test_deliveries_are_stored_across_a_wal_file_deleted_and_made_anew(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    first = await asyncio.gather(*(writer.store([_event(f"a{n}")]) for n in range(20)))
    # The last connection closing checkpoints the WAL into the database and deletes it.
    engine.dispose()
    flush = WalFlush.of(engine)
    if flush is not None:
        assert not flush.wal.exists()
        flush.flush()  # no WAL: the database file is flushed instead
    # The next commits make a new WAL file (its directory entry is flushed with it).
    second = await asyncio.gather(*(writer.store([_event(f"b{n}")]) for n in range(20)))
    assert [r.new for r in first + second] == [1] * 40
    assert _stored(engine) == 40


async def test_several_transactions_are_in_flight_at_once_on_a_database_file(
    engine: Engine,
) -> None:
    assert GroupCommit(engine).max_in_flight == 3
    assert GroupCommit(create_engine("sqlite://")).max_in_flight == 1
