"""PostgreSQL connections that give up on a server that stopped answering.

A statement timeout is enforced by the server: it cannot help when the server, or the
network to it, stops answering at all (a crashed host, a dropped NAT mapping, a hung
pooler); TCP keepalives notice a dead peer only while the connection is idle and the
peer's kernel is gone too. Without a client-side limit such a connection waits forever
(``ops sync orders`` once hung for 307 s). psycopg does every blocking exchange of a
connection (queries, commits, the pool's pings) through ``Connection.wait``, which takes
a timeout: this connection passes one to each, and a connection that ran out is closed
(it is stuck in the middle of the protocol), so the pool discards it and every
connection opened before it.
"""

from __future__ import annotations

from typing import Any, TypeVar

import psycopg
from psycopg import errors

RV = TypeVar("RV")

# psycopg raises this private subclass of OperationalError when a wait runs out.
_WaitTimeout: type[Exception] = getattr(errors, "_WaitTimeout", psycopg.OperationalError)


class DatabaseNotAnswering(psycopg.OperationalError):
    """The database did not answer within the configured response timeout."""


def connection_class(response_timeout_s: float) -> type[psycopg.Connection[Any]]:
    """A psycopg connection class whose every exchange with the server must complete
    within ``response_timeout_s`` seconds."""

    class DeadlineConnection(psycopg.Connection[Any]):
        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            limit = response_timeout_s if timeout is None else timeout
            try:
                return super().wait(gen, interval, limit)
            except _WaitTimeout:
                self.close()  # half-way through a message: unusable, and the pool must know
                raise DatabaseNotAnswering(
                    f"the database did not answer within {response_timeout_s:g} s "
                    "(limits.database.response_timeout_s)"
                ) from None

    return DeadlineConnection
