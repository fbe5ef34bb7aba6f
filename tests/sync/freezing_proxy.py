"""A TCP proxy on loopback that can stop answering: what a database that hangs looks
like to its clients (the host is up, the connection stays open, nothing comes back)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class FreezingProxy:
    """Forwards loopback connections to ``(host, port)``. A connection whose client sends
    ``trigger`` (e.g. the text of a statement) stops answering there: that message and
    everything either side sends after it is swallowed, and the sockets stay open. Other
    connections, and later ones, pass normally (a server hung on one session, or a
    network path that broke for one connection)."""

    def __init__(self, host: str, port: int, *, trigger: bytes, hold_s: float = 30.0) -> None:
        self._target = (host, port)
        self._trigger = trigger
        # A frozen connection is closed after this long: a client that never gives up
        # fails the test instead of hanging it.
        self._hold_s = hold_s
        self.frozen = 0
        self._loop = asyncio.new_event_loop()
        self._frozen: set[int] = set()
        self._next = 0
        self.port = 0

    async def _serve(self, ready: threading.Event) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._next += 1
        ident = self._next
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return

        async def pump(
            src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, from_client: bool
        ) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if from_client and self._trigger in data and ident not in self._frozen:
                        self._frozen.add(ident)
                        self.frozen += 1
                        loop = asyncio.get_running_loop()
                        loop.call_later(self._hold_s, writer.close)
                        loop.call_later(self._hold_s, up_writer.close)
                    if ident in self._frozen:
                        continue  # swallowed: the other side never hears of it
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(
            pump(reader, up_writer, from_client=True), pump(up_reader, writer, from_client=False)
        )

    @contextmanager
    def running(self) -> Iterator[FreezingProxy]:
        ready = threading.Event()
        task: list[asyncio.Task[None]] = []

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            task.append(self._loop.create_task(self._serve(ready)))
            with contextlib.suppress(asyncio.CancelledError):
                self._loop.run_until_complete(task[0])

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert ready.wait(10), "the proxy did not start"
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(task[0].cancel)
            thread.join(timeout=10)
