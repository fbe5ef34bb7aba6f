"""Binding a listening port before a server says anything about it.

``ops serve`` and ``ops sandbox`` print their address (and the sandbox its credentials);
binding first means a port in use is one line naming the flag, not a banner and then a
failure.
"""

from __future__ import annotations

import socket

from masterops.cli.errors import CommandFailed


def bind_listening(host: str, port: int, *, flag: str = "--port") -> socket.socket:
    """A TCP socket bound to ``host:port``; CommandFailed names the flag to change."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise CommandFailed(
            f"cannot listen on {host}:{port}: {exc.strerror}; check --host"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    # As uvicorn does: a restart may reuse a port whose old connections are in TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        reason = (exc.strerror or str(exc)).lower()
        raise CommandFailed(
            f"cannot listen on {host}:{port}: {reason}; choose another {flag}"
        ) from None
    sock.set_inheritable(True)
    return sock
