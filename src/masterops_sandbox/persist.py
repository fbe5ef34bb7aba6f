"""The sandbox's state kept in a folder, so one process sees what another did to it.

``persisted_sandbox(folder)`` gives a ``Sandbox`` whose three services keep their
state in ``folder``: ``hubspot.json``, ``unleashed.json`` and ``n8n.json`` (plain
JSON from each service's ``to_state``), beside ``sandbox.lock``. The first use seeds
(deterministically, from the seed) and writes the files; later uses load them.

Requests run only while this process holds the folder's exclusive lock (``flock``).
Taking it, the process reloads every file another process replaced since its last
look; handing it back, it writes every service a request changed (a temporary file
renamed over the old one, so a reader never sees half a file). So every change is
made on the latest state and none is lost, whichever processes share the folder.

The lock is taken per burst of requests, not per process: it is handed back once the
process has made no request for ``IDLE_S`` or has held it for ``LEASE_S``. A
long-running ``ops worker`` or ``ops serve`` thus persists within a second of every
change and never shuts out the ``ops sync`` started beside it, while a sync's hundreds
of requests cost a few writes, not one each. What reads alone change (HubSpot's daily
usage, Unleashed's monthly quota) is written when the process closes the sandbox, if
no other process replaced the file meanwhile. A process that waits for the lock longer
than ``WAIT_NOTICE_S`` says so, once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from masterops_sandbox.folderlock import FolderLock, FolderLockError
from masterops_sandbox.server import SERVICES, Sandbox

# 2: HubSpot portals gained owners (a new default property, which shifts the value slots
# of custom ones), pipelines, property groups and association labels.
FORMAT = 2
IDLE_S = 0.05
LEASE_S = 1.0
CLOSE_WAIT_S = 30.0
WAIT_NOTICE_S = 3.0  # longer than a lease and a write: only a stuck holder is announced
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# HubSpot reads that are POSTs: searches and batch reads change nothing.
_READ_POSTS = ("/search", "/batch/read")
_CONTROL_PREFIX = "/_sandbox"

Version = tuple[int, int, int]  # (inode, mtime ns, size): a renamed-over file differs


class SandboxStateError(Exception):
    """The state folder cannot be used; the message says why and what to do."""


def state_files(folder: Path) -> list[Path]:
    """The files that hold the state (not the lock file)."""
    return [folder / f"{service}.json" for service in SERVICES]


def changes_state(method: str, path: str) -> bool:
    """Whether a request may change a service's data (then its file is written)."""
    if method not in _WRITES or path.startswith(_CONTROL_PREFIX):
        return False
    return not (method == "POST" and path.endswith(_READ_POSTS))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class SandboxState:
    """The link between one in-memory ``Sandbox`` and its state folder."""

    def __init__(
        self,
        folder: Path,
        box: Sandbox,
        *,
        on_wait: Callable[[str], None] = _stderr,
        idle_s: float = IDLE_S,
        lease_s: float = LEASE_S,
        notice_after: float = WAIT_NOTICE_S,
    ) -> None:
        self.folder = folder
        self.box = box
        self.lock = FolderLock(folder, on_wait=on_wait, notice_after=notice_after)
        self.idle_s = idle_s
        self.lease_s = lease_s
        self.saves = 0  # files written, for benchmarks
        self._versions: dict[str, Version | None] = dict.fromkeys(SERVICES)
        self._dirty: set[str] = set()  # changed by a request: written when the lock goes
        self._touched: set[str] = set()  # read only: written on close
        # This process's requests take turns on the in-memory state (flock cannot tell
        # threads apart); the lease timer takes it too before handing the lock back.
        self._mutex = threading.Lock()
        self._held = False
        self._held_since = 0.0
        self._last_used = 0.0
        self._closing = threading.Event()
        self._timer: threading.Thread | None = None

    # -- open and close ----------------------------------------------------------------

    def open(self) -> None:
        """Take the lock file and bring every service up to date (seeding the first time)."""
        try:
            self.lock.open()
        except FolderLockError as exc:
            raise SandboxStateError(str(exc)) from None
        try:
            with self._mutex:
                try:
                    self._take()
                finally:
                    self._hand_back()
        except BaseException:
            self.lock.close()
            raise
        self._timer = threading.Thread(
            target=self._watch_lease, name="masterops-sandbox-state", daemon=True
        )
        self._timer.start()

    def close(self) -> None:
        """Write what is left, reads' changes too unless another process replaced the file
        meanwhile, and let go of the lock file."""
        self._closing.set()
        if self._timer is not None:
            self._timer.join()
        try:
            # A request that never ended would hold the turn for ever: say so, not hang.
            if not self._mutex.acquire(timeout=CLOSE_WAIT_S):
                raise SandboxStateError(
                    f"the sandbox state in {self.folder} could not be saved: a request "
                    f"still held it after {CLOSE_WAIT_S:.0f} s"
                )
            try:
                if not self._held:
                    self.lock.lock()
                    self._held = True
                for service in sorted(self._touched - self._dirty):
                    if self._version(service) == self._versions[service]:
                        self._dirty.add(service)
                self._hand_back()
            finally:
                self._mutex.release()
        finally:
            self.lock.close()

    # -- the lease ---------------------------------------------------------------------

    def begin(self) -> None:
        """Before a request (blocking; from a worker thread in async code): this process's
        turn, and the folder's lock with every file reloaded that changed meanwhile."""
        self._mutex.acquire()
        try:
            if not self._held:
                self._take()
        except BaseException:
            self._mutex.release()
            raise

    def end(self, service: str, *, changed: bool) -> None:
        """After a request: note what it changed; hand the lock back if held too long."""
        try:
            (self._dirty if changed else self._touched).add(service)
            self._last_used = time.monotonic()
            if self._last_used - self._held_since >= self.lease_s:
                self._hand_back()
        finally:
            self._mutex.release()

    def _take(self) -> None:
        self.lock.lock()
        self._held = True
        self._held_since = time.monotonic()
        for service in SERVICES:
            self.refresh(service)

    def _hand_back(self) -> None:
        if not self._held:
            return
        try:
            for service in sorted(self._dirty):
                self.save(service)
        finally:
            self.lock.unlock()
            self._held = False

    def _watch_lease(self) -> None:
        while not self._closing.wait(self.idle_s):
            if not self._mutex.acquire(timeout=self.idle_s):
                continue  # a request is running: it is not idle
            try:
                if self._held and time.monotonic() - self._last_used >= self.idle_s:
                    self._hand_back()
            finally:
                self._mutex.release()

    # -- load and save (with the lock held) --------------------------------------------

    def _path(self, service: str) -> Path:
        return self.folder / f"{service}.json"

    def _version(self, service: str) -> Version | None:
        try:
            info = self._path(service).stat()
        except FileNotFoundError:
            return None
        return (info.st_ino, info.st_mtime_ns, info.st_size)

    def refresh(self, service: str) -> None:
        """Make the in-memory service match its file: load a file another process wrote,
        or seed and write it when there is none (the first use, or after a reset)."""
        version = self._version(service)
        if version is not None and version == self._versions[service]:
            return
        if version is None:
            if self._versions[service] is not None:  # reset by someone else: start over
                fresh = Sandbox(seed=self.box.seed, volume=self.box.volume)
                self.box.load_state(service, fresh.to_state(service))
            self.save(service)
            return
        self.box.load_state(service, self._read(service))
        self._versions[service] = version
        self._dirty.discard(service)
        self._touched.discard(service)

    def _read(self, service: str) -> dict[str, Any]:
        path = self._path(service)
        try:
            document = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise SandboxStateError(
                f"the sandbox state file {path} is unreadable ({exc}); "
                "`ops sandbox reset` starts over"
            ) from None
        made = (document.get("format"), document.get("seed"), document.get("volume"))
        wanted = (FORMAT, self.box.seed, self.box.volume)
        if made != wanted or document.get("service") != service:
            raise SandboxStateError(
                f"the sandbox state in {self.folder} was made with seed {made[1]} and volume "
                f"{made[2]} (format {made[0]}), not seed {wanted[1]} and volume {wanted[2]}; "
                "`ops sandbox reset` starts over"
            )
        state: dict[str, Any] = document["state"]
        return state

    def save(self, service: str) -> None:
        document = {
            "format": FORMAT,
            "service": service,
            "seed": self.box.seed,
            "volume": self.box.volume,
            "state": self.box.to_state(service),
        }
        path = self._path(service)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
        temporary.replace(path)
        self.saves += 1
        self._versions[service] = self._version(service)
        self._dirty.discard(service)
        self._touched.discard(service)

    # -- every request -----------------------------------------------------------------

    def guard(self, service: str, app: ASGIApp) -> ASGIApp:
        return _Guarded(self, service, app)


class _Guarded:
    """ASGI middleware: each request runs with the lock held, on the latest state."""

    def __init__(self, state: SandboxState, service: str, app: ASGIApp) -> None:
        self.state = state
        self.service = service
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Waiting happens in a thread so the event loop (and other requests) keep going.
        turn = asyncio.get_running_loop().run_in_executor(None, self.state.begin)
        try:
            await asyncio.shield(turn)
        except asyncio.CancelledError:
            # A client timeout gave up waiting, but the thread still gets the turn: it
            # must be handed back, or this process would never get another.
            turn.add_done_callback(self._hand_back_unused_turn)
            raise
        try:
            await self.app(scope, receive, send)
        finally:
            changed = changes_state(scope["method"], scope["path"])
            self.state.end(self.service, changed=changed)

    def _hand_back_unused_turn(self, turn: asyncio.Future[None]) -> None:
        if not turn.cancelled() and turn.exception() is None:
            self.state.end(self.service, changed=False)


@contextlib.contextmanager
def persisted_sandbox(
    folder: Path,
    *,
    seed: int = 0,
    volume: int = 300,
    on_wait: Callable[[str], None] = _stderr,
    notice_after: float = WAIT_NOTICE_S,
    **options: Any,
) -> Iterator[Sandbox]:
    """A ``Sandbox`` whose state lives in ``folder`` (see the module docstring).

    ``options`` go to ``Sandbox`` (faults, webhook_url); ``on_wait`` receives the one
    line said when another process holds the lock for long. Raises
    ``SandboxStateError`` when the folder cannot be used."""
    box = Sandbox(seed=seed, volume=volume, **options)
    state = SandboxState(folder, box, on_wait=on_wait, notice_after=notice_after)
    state.open()
    box.set_guard(state.guard)
    try:
        yield box
    finally:
        box.set_guard(None)
        state.close()


def reset_state(folder: Path, *, on_wait: Callable[[str], None] = _stderr) -> list[Path]:
    """Delete the state files (under the lock, so no request is half-way); returns those
    deleted. The lock file stays: a process waiting on it must wait on the same file."""
    if not folder.is_dir():
        return []
    lock = FolderLock(folder, on_wait=on_wait, notice_after=WAIT_NOTICE_S)
    try:
        lock.open()
    except FolderLockError as exc:
        raise SandboxStateError(str(exc)) from None
    deleted: list[Path] = []
    try:
        lock.lock()
        for path in state_files(folder):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                deleted.append(path)
    finally:
        lock.close()  # closing the file lets go of the lock
    return deleted
