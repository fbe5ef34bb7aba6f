"""One run at a time per (business, entity): the lock every sync takes, from the CLI and
from the worker alike.

The lock must never outlive its holder, even one killed with -9, so it is one the
operating system or the database frees when the process dies, never a row to expire:

- PostgreSQL: a session advisory lock on a connection held for the run. It dies with
  the session, which dies with the process (or its TCP connection). The key includes
  the schema, so two platforms in one database do not lock each other.
- SQLite: an ``flock`` on ``<database>.locks/<business>.<entity>.lock`` beside the
  database file. The kernel drops it when the process exits, however it exits. SQLite
  serves one machine, so a file lock covers every process that can reach the database.
  (An in-memory database is private to its process: a lock inside the process is enough.)

Beside the lock, the ``sync_locks`` table says who took it and when, so that a run
refused the lock can say who holds it and since when. The row is information only: a
row left by a killed holder is simply overwritten by the next one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, delete, select, text

from masterops.db.tables import sync_locks
from masterops.db.upsert import upsert

__all__ = ["LockHolder", "SyncLocked", "sync_lock"]

# In-memory SQLite databases: one per process, so a process-local lock is the whole story.
_LOCAL_LOCKS: dict[tuple[str, str, str], threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a sync lock, as its holder recorded it."""

    holder: str
    host: str
    pid: int
    acquired_at: datetime


class SyncLocked(Exception):
    """Another run of the same sync of the same business is in progress."""

    def __init__(self, business_id: str, entity: str, holder: LockHolder | None) -> None:
        self.business_id = business_id
        self.entity = entity
        self.holder = holder
        if holder is None:
            who = "another process (its holder is not recorded yet)"
        else:
            since = holder.acquired_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            who = f"{holder.holder} (pid {holder.pid} on {holder.host}) since {since}"
        super().__init__(f"{entity} sync of {business_id} is already running: held by {who}")


def _holder_name() -> str:
    """ "ops sync orders", "ops worker": the command and its first words, never the values
    of its options (a lowercase word of a few letters cannot be a secret)."""
    import sys

    words = [w for w in sys.argv[1:3] if re.fullmatch(r"[a-z][a-z-]{0,19}", w)]
    return " ".join(["ops", *words])


@contextlib.contextmanager
def sync_lock(engine: Engine, business_id: str, entity: str) -> Iterator[None]:
    """Hold the (``business_id``, ``entity``) sync lock for the block, or raise
    ``SyncLocked`` naming its holder at once (a second run never waits behind the first:
    the first already does what it would do)."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        acquire = _advisory_lock(engine, business_id, entity)
    else:
        acquire = _file_lock(engine, business_id, entity)
    with acquire as got:
        if not got:
            raise SyncLocked(business_id, entity, _read_holder(engine, business_id, entity))
        _record_holder(engine, business_id, entity)
        try:
            yield
        finally:
            _forget_holder(engine, business_id, entity)


# -- PostgreSQL ----------------------------------------------------------------------------


def _advisory_key(schema: str, business_id: str, entity: str) -> int:
    digest = hashlib.sha256(f"masterops.sync:{schema}:{business_id}:{entity}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _advisory_lock(engine: Engine, business_id: str, entity: str) -> Iterator[bool]:
    conn = engine.connect()
    try:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
        key = _advisory_key(schema, business_id, entity)
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        conn.commit()  # the lock is the session's, not the transaction's
        try:
            yield got
        finally:
            if got:
                # If the session is gone the lock went with it; nothing left to free.
                with contextlib.suppress(Exception):
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
    finally:
        with contextlib.suppress(Exception):
            conn.close()


# -- SQLite --------------------------------------------------------------------------------


def _lock_path(database: str, business_id: str, entity: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", f"{business_id}.{entity}")
    return Path(f"{database}.locks") / f"{safe}.lock"


@contextlib.contextmanager
def _file_lock(engine: Engine, business_id: str, entity: str) -> Iterator[bool]:
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        with _local_lock(database, business_id, entity) as got:
            yield got
        return
    path = _lock_path(database, business_id, entity)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[bytes] = path.open("ab")
    try:
        try:
            # flock, not fcntl/lockf: two opens in one process conflict too, and the
            # kernel releases it when the process dies.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
    finally:
        handle.close()


@contextlib.contextmanager
def _local_lock(database: str, business_id: str, entity: str) -> Iterator[bool]:
    with _LOCAL_GUARD:
        lock = _LOCAL_LOCKS.setdefault((database, business_id, entity), threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


# -- the holder row --------------------------------------------------------------------------


def _record_holder(engine: Engine, business_id: str, entity: str) -> None:
    row = {
        "business_id": business_id,
        "entity": entity,
        "holder": _holder_name()[:300],
        "host": socket.gethostname()[:255],
        "pid": os.getpid(),
        "acquired_at": datetime.now(UTC),
    }
    with engine.begin() as conn:
        upsert(conn, sync_locks, [row], keys=["business_id", "entity"])


def _forget_holder(engine: Engine, business_id: str, entity: str) -> None:
    # Best effort: a row left behind is overwritten by the next holder.
    with contextlib.suppress(Exception), engine.begin() as conn:
        _delete_own(conn, business_id, entity)


def _delete_own(conn: Connection, business_id: str, entity: str) -> None:
    conn.execute(
        delete(sync_locks).where(
            sync_locks.c.business_id == business_id,
            sync_locks.c.entity == entity,
            sync_locks.c.pid == os.getpid(),
            sync_locks.c.host == socket.gethostname()[:255],
        )
    )


def _read_holder(engine: Engine, business_id: str, entity: str) -> LockHolder | None:
    with contextlib.suppress(Exception), engine.connect() as conn:
        row = conn.execute(
            select(sync_locks).where(
                sync_locks.c.business_id == business_id, sync_locks.c.entity == entity
            )
        ).first()
        if row is not None:
            return LockHolder(row.holder, row.host, int(row.pid), row.acquired_at)
    return None
