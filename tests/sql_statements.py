"""The SQL statements an engine runs while a test does something (imported by name:
tests/ is on the path as the root conftest's folder)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def recorded_statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` executes meanwhile, but the audit's naming of the
    actor on PostgreSQL (``db/audit.py``): one per transaction of a thread that has an
    actor, which depends on the thread the work lands on, not on the work."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "set_config('masterops.actor'" not in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
