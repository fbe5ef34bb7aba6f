"""A light HTTP/1.1 load generator for the ingest benches, and its own ceiling.

An httpx client costs more CPU per request than the receiver it measures, so on a
2-core machine it says as much about the client as about the server. Here each client
is a raw asyncio stream on one keep-alive connection, sending request bytes built (and
signed) before the timed window and reading back only the status line, the
Content-Length and the body. One request in flight per client, as a webhook sender
waits for its answer.

Run as a script, it measures its own ceiling: the same clients against a trivial server
(a bare asyncio protocol in another process answering every request with a fixed 200,
no framework), so a reader knows how far the generator is from being the bottleneck.

    .venv/bin/python bench/http_load.py [--seconds 5] [--clients 16] [--body 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

FIXED_ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when installed (what uvicorn picks too), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(coroutine: object) -> object:
    loop = new_event_loop()
    try:
        return loop.run_until_complete(coroutine)  # type: ignore[arg-type]
    finally:
        loop.close()


def http_request(path: str, host: str, headers: Mapping[str, str], body: bytes) -> bytes:
    """The bytes of one ``POST`` with ``body`` on a keep-alive connection."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class ProtocolError(Exception):
    pass


async def read_status(reader: asyncio.StreamReader) -> int:
    """Read one response; its status (the body is read and dropped)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        raise ProtocolError(f"a response without Content-Length: {head[:200]!r}")
    length = int(head[at + 17 : head.index(b"\r\n", at + 2)])
    if length:
        await reader.readexactly(length)
    return status


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process ``pid`` so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Outcome:
    """What the clients saw in the timed window."""

    seconds: float = 0.0
    ok: int = 0  # answered 2xx
    refused: int = 0  # any other status
    latencies_ms: list[float] = field(default_factory=list)
    exhausted: int = 0  # clients that ran out of pre-built requests before the end
    client_cpu_s: float = 0.0  # this process while timed
    server_cpu_s: float = float("nan")  # the server process while timed

    @property
    def answered(self) -> int:
        return self.ok + self.refused

    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else float("nan")

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))]

    def cpu_ms_per_request(self) -> tuple[float, float]:
        n = max(self.answered, 1)
        return 1000 * self.server_cpu_s / n, 1000 * self.client_cpu_s / n


async def drive(
    port: int,
    warmup: Sequence[Sequence[bytes]],
    timed: Sequence[Sequence[bytes]],
    seconds: float,
    *,
    server_pid: int | None = None,
) -> Outcome:
    """One client per entry of ``timed`` (and ``warmup``, same length), each on its own
    connection: first every warm-up request, unmeasured; then the timed requests, in
    order, until ``seconds`` have passed or none is left. A client waits for the answer
    of its request in flight, so every request sent is answered inside the count."""
    outcome = Outcome()
    streams = [await asyncio.open_connection("127.0.0.1", port) for _ in timed]

    async def client(index: int, requests: Sequence[bytes], stop_at: float | None) -> None:
        reader, writer = streams[index]
        latencies = outcome.latencies_ms
        clock = time.perf_counter
        for request in requests:
            if stop_at is not None and clock() >= stop_at:
                return
            started = clock()
            writer.write(request)
            status = await read_status(reader)
            if stop_at is None:
                continue
            latencies.append((clock() - started) * 1000)
            if 200 <= status < 300:
                outcome.ok += 1
            else:
                outcome.refused += 1
        if stop_at is not None and clock() < stop_at:
            outcome.exhausted += 1

    await asyncio.gather(*(client(i, r, None) for i, r in enumerate(warmup)))
    server_cpu = cpu_seconds(server_pid) if server_pid else float("nan")
    own_cpu = time.process_time()
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(*(client(i, r, stop_at) for i, r in enumerate(timed)))
    outcome.seconds = time.perf_counter() - started
    outcome.client_cpu_s = time.process_time() - own_cpu
    if server_pid:
        outcome.server_cpu_s = cpu_seconds(server_pid) - server_cpu
    for _, writer in streams:
        writer.close()
    return outcome


# --- the trivial server (``--serve-fixed PORT``, in its own process) ------------------------


class _FixedAnswer(asyncio.Protocol):
    """Answers every complete request with ``FIXED_ANSWER``; parses only what it must."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self._transport = cast(asyncio.Transport, transport)
        self._buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer + data
        while (end := buffer.find(b"\r\n\r\n")) >= 0:
            head = buffer[:end].lower()
            at = head.find(b"content-length:")
            line_end = head.find(b"\r\n", at)
            length = int(head[at + 15 : line_end if line_end >= 0 else end]) if at >= 0 else 0
            if len(buffer) < end + 4 + length:
                break
            buffer = buffer[end + 4 + length :]
            self._transport.write(FIXED_ANSWER)
        self._buffer = buffer


async def _serve_fixed(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_FixedAnswer, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def start_fixed_server(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--serve-fixed", str(port)])


async def wait_listening(port: int, process: subprocess.Popen[Any]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return
    raise RuntimeError("the server did not start listening within 60 s")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ceiling(seconds: float, clients: int, body_size: int) -> Outcome:
    """The generator against the trivial server: its own requests/s ceiling here."""
    port = free_port()
    process = start_fixed_server(port)
    body = b"[" + b"0," * max(0, (body_size - 3) // 2) + b"0]"
    request = http_request("/ingest", f"127.0.0.1:{port}", {"Content-Type": "x"}, body)
    # Enough requests for 40,000/s: the ceiling is not capped by running out.
    per_client = int(seconds * 40_000 / clients) + 1

    async def measure() -> Outcome:
        await wait_listening(port, process)
        return await drive(
            port,
            [[request] * 200 for _ in range(clients)],
            [[request] * per_client for _ in range(clients)],
            seconds,
            server_pid=process.pid,
        )

    try:
        result = run(measure())
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert isinstance(result, Outcome)
    return result


def ceiling_line(outcome: Outcome, clients: int) -> str:
    server_ms, client_ms = outcome.cpu_ms_per_request()
    return (
        f"  generator ceiling ({clients} clients vs a fixed-answer server): "
        f"{outcome.rate():8.0f} requests/s  p50 {outcome.percentile(0.5):5.2f} ms  "
        f"p99 {outcome.percentile(0.99):5.2f} ms  CPU/request client {client_ms:.3f} ms, "
        f"server {server_ms:.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--body", type=int, default=400, help="request body bytes")
    parser.add_argument("--serve-fixed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fixed:
        run(_serve_fixed(args.serve_fixed))
        return 0
    print(ceiling_line(ceiling(args.seconds, args.clients, args.body), args.clients))
    return 0


if __name__ == "__main__":
    sys.exit(main())
