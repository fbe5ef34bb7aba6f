"""Durable SQLite inbox commits whose disk flush happens outside SQLite's write lock.

With ``synchronous=FULL`` SQLite flushes the WAL inside the commit, while it holds the
database's one write lock: the next transaction cannot even write until the flush is
done, so commits (and the deliveries waiting for them) queue behind every flush.

Here the inbox commits with the engine's ``synchronous=NORMAL`` (the commit writes its
WAL frames, commit record included, to the file but does not flush them), releases the
lock, and only then flushes the WAL file itself (``fdatasync``), before any delivery of
the transaction is answered. That is the very flush FULL would have made, so a 2xx
still means the events are on disk: while one transaction's flush is in flight the next
one writes, and flushes issued at once are merged by the kernel. The WAL's frames are
only ever reused after a checkpoint has copied them into the database file and flushed
it (what NORMAL does at each checkpoint), so a frame already flushed stays valid.

A WAL file created since the last flush also needs its directory entry on disk (SQLite
flushes the directory of a new WAL at its first sync): done once per new WAL file. With
no WAL file at all (the last connection checkpointed it into the database and deleted
it) the database file is flushed instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from sqlalchemy import Engine


class WalFlush:
    """One per SQLite database file: orders the inbox's writers and flushes the WAL."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.wal = Path(f"{database}-wal")
        # Writers take turns on this lock rather than on SQLite's, whose busy handler
        # sleeps (1, 2, 5, 10 ms ...) instead of waking a writer when the lock is free.
        self.write_lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._wal_inode: int | None = None  # the WAL whose directory entry is on disk

    @classmethod
    def of(cls, engine: Engine) -> WalFlush | None:
        """The flush of ``engine``'s database file; None when it is not a SQLite file."""
        database = engine.url.database or ""
        if engine.dialect.name != "sqlite" or database in ("", ":memory:"):
            return None
        if database.startswith("file:"):  # a URI filename: its flags are SQLite's business
            return None
        return cls(Path(database).resolve())

    def flush(self) -> None:
        """Put every commit written to the WAL so far on disk."""
        try:
            fd = os.open(self.wal, os.O_RDONLY)
        except FileNotFoundError:
            fd = os.open(self.database, os.O_RDONLY)
            try:
                os.fdatasync(fd)
            finally:
                os.close(fd)
            return
        try:
            os.fdatasync(fd)
            inode = os.fstat(fd).st_ino
        finally:
            os.close(fd)
        if inode != self._wal_inode:
            with self._flush_lock:
                if inode != self._wal_inode:
                    self._flush_directory()
                    self._wal_inode = inode

    def _flush_directory(self) -> None:
        fd = os.open(self.wal.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
