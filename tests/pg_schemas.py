"""Dropping a test's PostgreSQL schema when the test ends."""

from __future__ import annotations

import time

from psycopg import errors
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

ATTEMPTS = 5


def drop_schema(admin: Engine, schema: str) -> None:
    """``DROP SCHEMA ... CASCADE``, again after a deadlock. A test's runtime may still be
    finishing a write in the schema as the test ends (a DBOS thread, the telemetry sink's
    last flush); the drop's exclusive locks and that write's can deadlock, and PostgreSQL
    then fails one of the two. Once the write has ended, the drop goes through."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            return
        except OperationalError as exc:
            if not isinstance(exc.orig, errors.DeadlockDetected) or attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
