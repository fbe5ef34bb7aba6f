"""Who changed what: the actor of each transaction, and reading and pruning ``audit_log``.

The rows themselves are written by database triggers (``db/audit_ddl.py``), so no write
path of the platform can forget them. The triggers learn *who* from the connection:

- PostgreSQL: each transaction starts with ``set_config('masterops.actor', ..., true)``
  (a ``SET LOCAL``) from the engine's ``begin`` hook; the trigger reads it back.
- SQLite: every connection of the platform's engine registers the SQL function
  ``masterops_actor()``, which returns the actor of the calling thread.

The actor itself (``cli:alice``, ``api:dashboard``, ``worker:w1``) is kept by
``db/actor.py``.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, event, func, select, text

from masterops.db.actor import acting_as, bind_actor, current_actor, set_process_actor
from masterops.db.tables import audit_log

__all__ = [
    "AuditEntry",
    "acting_as",
    "bind_actor",
    "current_actor",
    "install_hooks",
    "prune",
    "read_entries",
    "set_process_actor",
]

# True only inside ``prune`` on this thread: the SQLite guard trigger asks for it.
_retention: ContextVar[bool] = ContextVar("masterops_audit_retention", default=False)


def install_hooks(engine: Engine) -> None:
    """Make ``engine``'s transactions tell the audit triggers who is acting."""
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_functions)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "begin", _postgres_begin)


def _sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("masterops_actor", 0, current_actor)
    dbapi_connection.create_function("masterops_audit_retention", 0, _retention.get)


def _postgres_begin(conn: Connection) -> None:
    actor = current_actor()
    if actor is not None:
        # One round trip per transaction, and only when someone is named (the cost is
        # measured in bench/audit_overhead.py).
        conn.exec_driver_sql("SELECT set_config('masterops.actor', %s, true)", (actor,))


@dataclass(frozen=True)
class AuditEntry:
    id: int
    changed_at: datetime
    actor: str
    db_role: str | None
    table: str
    operation: str
    row_id: str | None
    old: dict[str, Any] | None
    new: dict[str, Any] | None

    def changed_columns(self) -> list[str]:
        """The columns an UPDATE changed (every column of an INSERT or DELETE)."""
        old, new = self.old or {}, self.new or {}
        return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "changed_at": self.changed_at,
            "actor": self.actor,
            "db_role": self.db_role,
            "table": self.table,
            "operation": self.operation,
            "row_id": self.row_id,
            "old": self.old,
            "new": self.new,
        }


def read_entries(
    conn: Connection,
    *,
    table: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The newest entries first, filtered by table, actor (exact, or a prefix ending in
    ``:`` such as ``api:``) and time."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if table is not None:
        query = query.where(audit_log.c.table_name == table)
    if actor is not None:
        if actor.endswith(":"):
            query = query.where(func.substr(audit_log.c.changed_by, 1, len(actor)) == actor)
        else:
            query = query.where(audit_log.c.changed_by == actor)
    if since is not None:
        query = query.where(audit_log.c.changed_at >= since)
    return [
        AuditEntry(
            id=row.id,
            changed_at=row.changed_at,
            actor=row.changed_by,
            db_role=row.db_role,
            table=row.table_name,
            operation=row.operation,
            row_id=row.row_id,
            old=row.old_row,
            new=row.new_row,
        )
        for row in conn.execute(query)
    ]


def audited_tables(conn: Connection) -> list[str]:
    """The tables that have audit triggers in this database (schema)."""
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE c.relnamespace = current_schema()::regnamespace"
            " AND t.tgname LIKE '%\\_audit\\_ins' ORDER BY 1"
        )
    else:
        sql = (
            "SELECT DISTINCT tbl_name FROM sqlite_master WHERE type = 'trigger'"
            " AND name LIKE '%\\_audit\\_ins' ESCAPE '\\' ORDER BY 1"
        )
    return [row[0] for row in conn.execute(text(sql))]


def prune(conn: Connection, before: datetime) -> int:
    """Delete the entries older than ``before``: the retention job, the one way rows
    leave ``audit_log``. On PostgreSQL it calls ``masterops_audit_prune``, which only its
    owner (the schema owner role) may execute."""
    before = before.astimezone(UTC)
    if conn.dialect.name == "postgresql":
        gone = conn.execute(text("SELECT masterops_audit_prune(:b)"), {"b": before}).scalar()
        return int(gone or 0)
    token = _retention.set(True)
    try:
        result = conn.execute(audit_log.delete().where(audit_log.c.changed_at < before))
    finally:
        _retention.reset(token)
    return int(result.rowcount)
