"""An exclusive lock on a folder, between processes: ``flock`` on ``<folder>/sandbox.lock``.

The lock belongs to the open file, not to a thread: this process's threads must take
turns by other means (``persist.SandboxState`` does). Whoever holds the lock writes its
pid into the file, so a process that waits longer than ``notice_after`` seconds can say,
once, who it waits for.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path

LOCK_FILE = "sandbox.lock"


class FolderLockError(Exception):
    """The folder or its lock file cannot be used."""


class FolderLock:
    """Exclusive use of ``folder``; open it first, close it when done."""

    def __init__(
        self, folder: Path, *, on_wait: Callable[[str], None], notice_after: float = 1.0
    ) -> None:
        self.folder = folder
        self._on_wait = on_wait
        self._notice_after = notice_after
        self._waited = False
        self._fd: int | None = None

    def open(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise FolderLockError(
                f"cannot use the sandbox state folder {self.folder}: {exc.strerror}"
            ) from None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def lock(self) -> None:
        """Block until this process holds the lock."""
        self._flock()

    def unlock(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _flock(self) -> None:
        fd = self._require_fd()
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # Most waits last a request or two; only a long one is worth a line.
                if time.monotonic() - started >= self._notice_after:
                    if not self._waited:
                        self._waited = True
                        self._on_wait(self._wait_message())
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    break
                time.sleep(0.005)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)

    def _wait_message(self) -> str:
        try:
            holder = os.pread(self._require_fd(), 32, 0).decode().strip()
        except OSError:
            holder = ""
        who = f"process {holder}" if holder.isdigit() else "another process"
        return f"waiting for the sandbox state in {self.folder}: {who} is using it"

    def _require_fd(self) -> int:
        if self._fd is None:
            raise FolderLockError(f"the sandbox state lock in {self.folder} is not open")
        return self._fd
