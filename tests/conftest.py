"""Shared fixtures: every database test runs on SQLite and, when
MASTEROPS_TEST_DATABASE_URL is set, on PostgreSQL too (each test in its own schema)."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, text

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from pg_schemas import drop_schema

PG_URL = os.environ.get("MASTEROPS_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


@dataclass
class Database:
    url: str
    backend: str


def _pg_schema_url(schema: str) -> str:
    assert PG_URL is not None
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def pg_admin() -> Iterator[Engine]:
    if not PG_URL:
        pytest.skip("MASTEROPS_TEST_DATABASE_URL is not set")
    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    yield engine
    engine.dispose()


def _make_database(backend: str, tmp_path: Path) -> Iterator[Database]:
    if backend == "sqlite":
        yield Database(f"sqlite:///{tmp_path / 'test.db'}", "sqlite")
        return
    assert PG_URL is not None
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield Database(_pg_schema_url(schema), "postgresql")
    finally:
        drop_schema(admin, schema)
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database (no schema yet) on each backend."""
    yield from _make_database(request.param, tmp_path)


@pytest.fixture
def bare_engine(database: Database) -> Iterator[Engine]:
    engine = create_db_engine(database.url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(bare_engine: Engine) -> Engine:
    """A migrated database on each backend."""
    migrate.upgrade(bare_engine)
    return bare_engine


@dataclass
class OpsResult:
    exit_code: int
    stdout: str
    stderr: str


def _in_process_ops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    """``run(*args)``: the real ``ops`` entry point in-process, in ``tmp_path``, with no
    MASTEROPS_ variable but those a test sets."""
    from masterops.cli.main import main

    for key in list(os.environ):
        if key.startswith("MASTEROPS_") and key != "MASTEROPS_TEST_DATABASE_URL":
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> OpsResult:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["ops", *args])
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return OpsResult(code, out.out, out.err)

    return run


@pytest.fixture
def ops_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    """Run the real ``ops`` entry point in-process with no configuration at all (the
    embedded default in ``tmp_path``): for commands and flags no database decides."""
    return _in_process_ops(tmp_path, monkeypatch, capsys)


@pytest.fixture
def ops(
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
):
    """Run the real ``ops`` entry point in-process against the test database."""
    run = _in_process_ops(tmp_path, monkeypatch, capsys)
    monkeypatch.setenv("MASTEROPS_DATABASE_URL", database.url)
    if database.backend == "postgresql":
        engine = create_db_engine(database.url)
        migrate.upgrade(engine)
        engine.dispose()
    return run
