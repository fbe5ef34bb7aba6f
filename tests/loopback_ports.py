"""Free loopback ports for tests that start servers (imported by name: tests/ is on the
path as the root conftest's folder)."""

from __future__ import annotations

import socket


def free_port_block() -> int:
    """A port p such that p, p+1 and p+2 are free right now (``ops sandbox`` takes three)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port > 65000:
            continue
        ok = True
        for offset in (1, 2):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port + offset))
                except OSError:
                    ok = False
        if ok:
            return port
    raise RuntimeError("no free block of three ports")
