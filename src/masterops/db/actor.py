"""Who is acting: the name the audit trail records for each transaction (``db/audit.py``).

No SQLAlchemy here: the CLI names its actor before it knows whether a command touches
the database at all. The actor is the CLI user (``cli:alice``), the API token's name
(``api:dashboard``) or the worker's name (``worker:w1``): a process-wide default that the
entry point sets once, which a context variable overrides per request or block.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

#: Longest actor string stored; a longer one is cut (names come from operators).
MAX_ACTOR = 200

_actor: ContextVar[str | None] = ContextVar("masterops_actor", default=None)
_process_actor: str | None = None


def set_process_actor(actor: str | None) -> None:
    """The actor of every transaction of this process that nothing overrides (threads
    started by libraries, e.g. DBOS steps, see it too)."""
    global _process_actor
    _process_actor = actor[:MAX_ACTOR] if actor else None


def cli_actor() -> str:
    """``cli:<login name>`` for commands an operator types."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container with an unnamed uid)
        user = "unknown"
    return f"cli:{user}"


def current_actor() -> str | None:
    """The actor of the calling thread or task: its override, else the process's."""
    return _actor.get() or _process_actor


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Attribute the changes made inside the block to ``actor``."""
    token = _actor.set(actor[:MAX_ACTOR])
    try:
        yield
    finally:
        _actor.reset(token)


def bind_actor(actor: str) -> None:
    """Attribute the rest of the current context's changes to ``actor`` (an async request
    handler, whose context ends with the request)."""
    _actor.set(actor[:MAX_ACTOR])
