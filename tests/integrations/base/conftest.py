"""Fixtures for the integration core: clocks, a runtime, the switchboard served in-process
and on a loopback uvicorn server, and a raw socket server that breaks connections."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from base_helpers import BreakingServer, SkipClock, Target
from base_switchboard import Switchboard

from masterops.integrations.base import ConnectorRuntime
from masterops.observability.events import EventRecorder, TelemetryHub


@pytest.fixture
def board() -> Switchboard:
    return Switchboard()


@pytest.fixture
def recorder() -> EventRecorder:
    return EventRecorder()


@pytest.fixture
def skip_clock() -> SkipClock:
    return SkipClock()


@pytest.fixture
def runtime(recorder: EventRecorder, skip_clock: SkipClock) -> ConnectorRuntime:
    hub = TelemetryHub()
    hub.subscribe(recorder)
    return ConnectorRuntime(hub=hub, clock=skip_clock)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@asynccontextmanager
async def serve_uvicorn(app: Any) -> AsyncIterator[str]:
    """Serve ``app`` on a real loopback port with uvicorn, in this event loop."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(params=["asgi", "uvicorn"])
async def target(request: pytest.FixtureRequest, board: Switchboard) -> AsyncIterator[Target]:
    """The switchboard in-process (ASGI transport) and over loopback HTTP (uvicorn)."""
    if request.param == "asgi":
        yield Target("asgi", "http://demo.test", httpx.ASGITransport(app=board.app))
        return
    async with serve_uvicorn(board.app) as url:
        yield Target("uvicorn", url, None)


async def _start_breaking(mode: str) -> tuple[asyncio.Server, BreakingServer]:
    connections: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await reader.readuntil(b"\r\n\r\n")
            if mode == "truncate":
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 200\r\n\r\n{"partial": tr'
                )
                await writer.drain()
            else:  # "reset": RST instead of FIN
                sock = writer.get_extra_info("socket")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, BreakingServer(f"http://127.0.0.1:{port}", connections)


@pytest.fixture(params=["truncate", "reset"])
async def breaking_server(request: pytest.FixtureRequest) -> AsyncIterator[BreakingServer]:
    server, info = await _start_breaking(request.param)
    async with server:
        yield info


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback port with nothing listening: connecting is refused."""
    sock = _free_socket()
    port = sock.getsockname()[1]
    sock.close()
    yield f"http://127.0.0.1:{port}"
