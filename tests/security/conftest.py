"""A unique role prefix per test, and every role it named dropped afterwards: roles are
cluster-wide and the cluster is shared with other databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

PG_URL_PREFIX = "postgresql+psycopg://"


def drop_roles(url: str, prefix: str) -> None:
    """Drop every role named ``<prefix>_...`` and whatever it owns or was granted here."""
    admin = create_engine(url.replace("postgresql://", PG_URL_PREFIX, 1))
    try:
        with admin.begin() as conn:
            created = list(
                conn.execute(
                    text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"),
                    {"p": prefix + "\\_%"},
                ).scalars()
            )
            # One role at a time: DROP OWNED BY a list can trip over a default ACL that
            # two of them share ("could not find tuple for default ACL").
            for role in created:
                conn.exec_driver_sql(f'REASSIGN OWNED BY "{role}" TO CURRENT_USER')
                conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            for role in created:
                conn.exec_driver_sql(f'DROP ROLE "{role}"')
    finally:
        admin.dispose()


@pytest.fixture
def role_prefix(database) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A prefix no other test uses; its roles are dropped at the end (PostgreSQL only)."""
    if database.backend != "postgresql":
        pytest.skip("roles are PostgreSQL only")
    prefix = "t" + uuid.uuid4().hex[:10]
    try:
        yield prefix
    finally:
        drop_roles(database.url, prefix)
