"""Creating engines for the embedded SQLite default and for PostgreSQL (Supabase)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from masterops.config import DatabaseLimits


class DatabaseURLError(ValueError):
    """A database URL that cannot be used; the message says why (never the password)."""


def normalize_url(raw: str) -> URL:
    """Parse ``raw`` and pick the driver this project ships (psycopg 3 for PostgreSQL)."""
    try:
        url = make_url(raw)
    except ArgumentError:
        raise DatabaseURLError(
            "database URL is not a URL (expected e.g. sqlite:///path/to.db or "
            "postgresql://user@host:5432/dbname)"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return url
    raise DatabaseURLError(
        f"database URL scheme {url.drivername!r} is not supported; use sqlite:// or postgresql://"
    )


def create_db_engine(
    raw_url: str, *, echo: bool = False, limits: DatabaseLimits | None = None
) -> Engine:
    """An engine for ``raw_url``. SQLite gets WAL, a busy timeout and foreign keys.
    PostgreSQL gets ``limits`` (the defaults of ``[limits.database]`` when None): a
    statement timeout, TCP keepalives and a limit on how long a connection may go
    without an answer (see ``db/deadline.py``).

    Nothing connects here; the first query does.
    """
    url = normalize_url(raw_url)
    kwargs: dict[str, Any] = {"echo": echo}
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        if database in ("", ":memory:"):
            kwargs["poolclass"] = NullPool
    else:
        kwargs["pool_pre_ping"] = True
        kwargs["connect_args"] = _postgres_connect_args(limits or DatabaseLimits())
    try:
        engine = create_engine(url, **kwargs)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DatabaseURLError(f"cannot use database URL: {exc}") from None
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        _answer_within(engine, limits or DatabaseLimits())
    # Tell the audit triggers who acts (db/audit.py); nothing runs until a connection.
    from masterops.db.audit import install_hooks

    install_hooks(engine)
    return engine


def _postgres_connect_args(limits: DatabaseLimits) -> dict[str, Any]:
    return {
        "connect_timeout": 10,
        # libpq's TCP keepalives: a peer that vanished is noticed on an idle connection.
        "keepalives": 1,
        "keepalives_idle": limits.keepalives_idle_s,
        "keepalives_interval": limits.keepalives_interval_s,
        "keepalives_count": limits.keepalives_count,
        # Sent data left unacknowledged this long (a peer gone mid-request) drops it too.
        "tcp_user_timeout": int(limits.response_timeout_s * 1000),
    }


def _answer_within(engine: Engine, limits: DatabaseLimits) -> None:
    """Connect with ``db/deadline.py``'s connection class, and set the statement timeout
    on each new session (in its options, beside any the URL has, e.g. a search_path)."""
    from masterops.db.deadline import connection_class

    connection = connection_class(limits.response_timeout_s)
    timeout_ms = int(limits.statement_timeout_s * 1000)

    @event.listens_for(engine, "do_connect")
    def connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> Any:
        options = str(cparams.get("options") or "")
        cparams["options"] = f"{options} -c statement_timeout={timeout_ms}".strip()
        return connection.connect(*cargs, **cparams)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def describe_url(engine: Engine) -> str:
    """The engine's URL with the password hidden."""
    return engine.url.render_as_string(hide_password=True)
