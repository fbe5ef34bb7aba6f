"""The SQLite inbox's commits flushed outside SQLite's write lock (``wal_flush.py``):
every accepted delivery is stored, whatever became of the WAL file between commits, and
several transactions are in flight at once on a database file of either backend (one at
a time on a SQLite database in memory)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.pool import StaticPool
from web_helpers import inbox_event

from masterops.db.tables import webhook_inbox
from masterops.web import group_commit
from masterops.web.group_commit import GroupCommit
from masterops.web.inbox import InboxEvent, StoreResult
from masterops.web.wal_flush import WalFlush


def _stored(engine: Engine) -> int:
    with engine.connect() as conn:
        return len(conn.execute(select(webhook_inbox.c.id)).all())


class _HeldStores:
    """Stands in for the ``store_deliveries`` that ``GroupCommit`` runs in worker threads:
    counts the stores running at once and holds each one, before it touches the database,
    until ``release`` is set. A store held this way is a transaction the writer has in
    flight: the deliveries queued meanwhile show whether it starts another beside it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._store = group_commit.store_deliveries
        self._changed = threading.Condition()
        self.running = 0
        self.peak = 0
        self.release = threading.Event()
        monkeypatch.setattr(group_commit, "store_deliveries", self)

    def __call__(
        self,
        engine: Engine,
        deliveries: Sequence[Sequence[InboxEvent]],
        wal: WalFlush | None = None,
    ) -> list[StoreResult]:
        with self._changed:
            self.running += 1
            self.peak = max(self.peak, self.running)
            self._changed.notify_all()
        try:
            self.release.wait(timeout=30)  # a failed test must not hang its threads
            return self._store(engine, deliveries, wal)
        finally:
            with self._changed:
                self.running -= 1
                self._changed.notify_all()

    async def wait_running(self, count: int) -> bool:
        """Whether ``count`` stores run at once within ten seconds."""

        def wait() -> bool:
            with self._changed:
                return self._changed.wait_for(lambda: self.running == count, timeout=10)

        return await asyncio.to_thread(wait)


def _send(writer: GroupCommit, event_id: str) -> asyncio.Task[StoreResult]:
    return asyncio.create_task(writer.store([inbox_event(event_id)]))


#: Long enough for the writer to start a transaction it was going to start: it needs
#: only this loop and a worker thread.
SETTLE_S = 0.2


async def test_only_a_sqlite_database_file_has_a_wal_to_flush(engine: Engine) -> None:
    flush = WalFlush.of(engine)
    if engine.dialect.name == "postgresql":
        assert flush is None  # the server flushes its own WAL at each commit
    else:
        assert flush is not None and flush.wal.name.endswith(".db-wal")
        # The file it flushes is the one SQLite writes the inbox's commits to.
        before = flush.wal.read_bytes() if flush.wal.exists() else b""
        await GroupCommit(engine).store([inbox_event("w1")])
        assert flush.wal.read_bytes() != before
    assert WalFlush.of(create_engine("sqlite://")) is None  # in memory: no file at all


async def test_deliveries_are_stored_across_a_wal_file_deleted_and_made_anew(
    engine: Engine,
) -> None:
    writer = GroupCommit(engine)
    first = await asyncio.gather(*(writer.store([inbox_event(f"a{n}")]) for n in range(20)))
    # The last connection closing checkpoints the WAL into the database and deletes it.
    engine.dispose()
    flush = WalFlush.of(engine)
    if flush is not None:
        assert not flush.wal.exists()
        flush.flush()  # no WAL: the database file is flushed instead
    # The next commits make a new WAL file (its directory entry is flushed with it).
    second = await asyncio.gather(*(writer.store([inbox_event(f"b{n}")]) for n in range(20)))
    assert [r.new for r in first + second] == [1] * 40
    assert _stored(engine) == 40


async def test_several_transactions_are_in_flight_at_once_on_a_database_file(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldStores(monkeypatch)
    writer = GroupCommit(engine)
    assert writer.max_in_flight == 3
    deliveries: list[asyncio.Task[StoreResult]] = []
    try:
        # Each delivery sent while the transactions before it are open starts its own
        # (on a SQLite file they then take turns to write and flush together) ...
        for n in range(3):
            deliveries.append(_send(writer, f"e{n}"))
            assert await held.wait_running(n + 1), f"transactions in flight: {held.running}"
        # ... up to the limit: the fourth waits for a slot.
        deliveries.append(_send(writer, "e3"))
        await asyncio.sleep(SETTLE_S)
        assert (writer.batches, held.running) == (3, 3)
    finally:
        held.release.set()
        results = await asyncio.gather(*deliveries)
    assert [r.new for r in results] == [1, 1, 1, 1]
    assert (writer.batches, held.peak) == (4, 3)
    assert _stored(engine) == 4


async def test_one_transaction_at_a_time_on_a_sqlite_database_in_memory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One connection for every thread: a database in memory lives only in its connection.
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    webhook_inbox.create(engine)
    held = _HeldStores(monkeypatch)
    writer = GroupCommit(engine)
    assert writer.max_in_flight == 1
    deliveries: list[asyncio.Task[StoreResult]] = []
    try:
        deliveries.append(_send(writer, "e0"))
        assert await held.wait_running(1)
        # The deliveries sent while that transaction is open wait for it ...
        deliveries += [_send(writer, "e1"), _send(writer, "e2")]
        await asyncio.sleep(SETTLE_S)
        assert (writer.batches, held.running) == (1, 1)
    finally:
        held.release.set()
        results = await asyncio.gather(*deliveries)
    # ... and then share the next one.
    assert [r.new for r in results] == [1, 1, 1]
    assert (writer.batches, held.peak) == (2, 1)
    assert _stored(engine) == 3
    engine.dispose()
