"""Helpers of the job tests."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text

from masterops.config import Config
from masterops.jobs.runtime import system_database

PG_URL = os.environ.get("MASTEROPS_TEST_DATABASE_URL")


def drop_system_schema(config: Config) -> None:
    """DBOS's tables on PostgreSQL live in ``<test schema>_dbos``, which the shared
    fixtures do not know about: drop it."""
    url, schema = system_database(config)
    if not url.startswith("postgresql") or PG_URL is None:
        return
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        admin.dispose()
