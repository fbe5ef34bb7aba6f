"""The triggers that fill ``audit_log``, and the guard that keeps it append-only.

PostgreSQL: one statement-level trigger per table and operation, with transition tables
(``REFERENCING NEW TABLE``), so a sync's upsert of 500 rows costs one trigger call that
writes its audit rows in one INSERT ... SELECT, not 500 calls. Each table has its own
trigger function (``masterops_audit_<table>``), ``SECURITY DEFINER`` (owned by the schema
owner): the roles that change data never need, and never get, INSERT on ``audit_log``
itself. An UPDATE that changed nothing is not recorded.

SQLite: row-level triggers per table and operation whose column list is read from the
live table when they are installed (a migration that adds a column to an audited table
calls ``install_table`` again). The actor comes from ``masterops_actor()``, a function
only the platform's engine registers: a tool that is not the platform (the ``sqlite3``
shell) cannot write an audited table unattributed, it gets "no such function".

Later migrations that add a table to audit call ``install_table(conn, name)``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Connection, inspect

#: The audited tables (domain and control) and their secret columns, never recorded.
AUDITED: dict[str, tuple[str, ...]] = {
    "businesses": (),
    "tasks": (),
    "products": (),
    "stock_levels": (),
    "customers": (),
    "orders": (),
    "order_lines": (),
    "dropped_order_lines": (),
    "sync_state": (),
    "api_tokens": ("token_sha256",),
    "alert_acks": (),
    "report_deliveries": (),
}

_OPS = (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE"))
_APPEND_ONLY = "audit_log is append-only: {op} refused (only the retention job deletes)"


def _quote(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# -- PostgreSQL ---------------------------------------------------------------------------


def postgres_functions(schema: str) -> list[str]:
    """The guard and the retention function, pinned to ``schema`` (the latter runs as its
    owner)."""
    path = f'"{schema}", pg_temp'
    return [
        # Refuses UPDATE, TRUNCATE and any DELETE but the retention function's.
        "CREATE OR REPLACE FUNCTION masterops_audit_guard() RETURNS trigger"
        " LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'DELETE' AND current_setting('masterops.audit_retention', true) = 'on'"
        " THEN\n"
        "    RETURN OLD;\n"
        "  END IF;\n"
        "  RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',\n"
        "    MESSAGE = 'audit_log is append-only: ' || TG_OP\n"
        "              || ' refused (only the retention job deletes)';\n"
        "END $$",
        "CREATE OR REPLACE FUNCTION masterops_audit_prune(before timestamptz) RETURNS bigint"
        f" LANGUAGE plpgsql SECURITY DEFINER SET search_path = {path} AS $$\n"
        "DECLARE gone bigint;\n"
        "BEGIN\n"
        "  PERFORM set_config('masterops.audit_retention', 'on', true);\n"
        "  DELETE FROM audit_log WHERE changed_at < before;\n"
        "  GET DIAGNOSTICS gone = ROW_COUNT;\n"
        "  PERFORM set_config('masterops.audit_retention', 'off', true);\n"
        "  RETURN gone;\n"
        "END $$",
        "REVOKE ALL ON FUNCTION masterops_audit_prune(timestamptz) FROM PUBLIC",
    ]


POSTGRES_GUARD = [
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION masterops_audit_guard()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION masterops_audit_guard()",
]
POSTGRES_FUNCTIONS_DROP = [
    "DROP FUNCTION IF EXISTS masterops_audit_prune(timestamptz)",
    "DROP FUNCTION IF EXISTS masterops_audit_guard()",
]


def _postgres_table(conn: Connection, table: str, secret: tuple[str, ...]) -> list[str]:
    """A trigger function of ``table``'s own, with its key and secret columns written in:
    measured twice as fast as one generic function that reads them from arguments."""
    keys = inspect(conn).get_pk_constraint(table)["constrained_columns"]
    schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    name, function = _quote(conn, table), _quote(conn, f"masterops_audit_{table}")
    hide = f" - '{{{','.join(secret)}}}'::text[]" if secret else ""

    def key(alias: str) -> str:
        return f"concat_ws('/', {', '.join(f'{alias}.{_quote(conn, k)}' for k in keys)})"

    same_key = " AND ".join(f"o.{_quote(conn, k)} = n.{_quote(conn, k)}" for k in keys)
    head = (
        "INSERT INTO audit_log"
        " (table_name, operation, row_id, old_row, new_row, changed_by, db_role)"
    )
    body = (
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger"
        f' LANGUAGE plpgsql SECURITY DEFINER SET search_path = "{schema}", pg_temp AS $$\n'
        "DECLARE\n"
        "  who text := COALESCE(NULLIF(current_setting('masterops.actor', true), ''),\n"
        "                       'db:' || session_user);\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    {head}\n"
        f"    SELECT {_literal(table)}, TG_OP, {key('n')}, NULL, to_jsonb(n){hide}, who,\n"
        "           session_user FROM new_rows n;\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        f"    {head}\n"
        f"    SELECT {_literal(table)}, TG_OP, {key('o')}, to_jsonb(o){hide}, NULL, who,\n"
        "           session_user FROM old_rows o;\n"
        "  ELSE\n"
        f"    {head}\n"
        f"    SELECT {_literal(table)}, TG_OP, COALESCE({key('n')}, {key('o')}), j.o, j.n, who,\n"
        "           session_user\n"
        f"    FROM old_rows o FULL JOIN new_rows n ON {same_key}\n"
        f"    CROSS JOIN LATERAL (SELECT to_jsonb(o){hide} AS o, to_jsonb(n){hide} AS n) j\n"
        "    WHERE j.o IS DISTINCT FROM j.n;\n"  # an UPDATE that changed nothing is not news
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$"
    )
    statements = [body, f"REVOKE ALL ON FUNCTION {function}() FROM PUBLIC"]
    for suffix, op in _OPS:
        refs = {"ins": "NEW TABLE AS new_rows", "del": "OLD TABLE AS old_rows"}.get(
            suffix, "OLD TABLE AS old_rows NEW TABLE AS new_rows"
        )
        statements.append(
            f"CREATE TRIGGER {table}_audit_{suffix} AFTER {op} ON {name}"
            f" REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


# -- SQLite -------------------------------------------------------------------------------

SQLITE_GUARD = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN"
    f" SELECT RAISE(ABORT, {_literal(_APPEND_ONLY.format(op='UPDATE'))}); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " WHEN coalesce(masterops_audit_retention(), 0) = 0 BEGIN"
    f" SELECT RAISE(ABORT, {_literal(_APPEND_ONLY.format(op='DELETE'))}); END",
]
SQLITE_GUARD_DROP = [
    "DROP TRIGGER IF EXISTS audit_log_no_update",
    "DROP TRIGGER IF EXISTS audit_log_no_delete",
]


def _sqlite_table(conn: Connection, table: str, secret: tuple[str, ...]) -> list[str]:
    insp = inspect(conn)
    keys = insp.get_pk_constraint(table)["constrained_columns"]
    columns = [c for c in insp.get_columns(table) if c["name"] not in secret]

    def row(alias: str) -> str:
        pairs = []
        for c in columns:
            value = f"{alias}.{_quote(conn, c['name'])}"
            # JSON columns hold JSON text: embed it as JSON, not as a string.
            pairs.append(
                f"'{c['name']}', json({value})"
                if isinstance(c["type"], JSON)
                else f"'{c['name']}', {value}"
            )
        return f"json_object({', '.join(pairs)})"

    def key(alias: str) -> str:
        return " || '/' || ".join(f"CAST({alias}.{_quote(conn, k)} AS TEXT)" for k in keys)

    name = _quote(conn, table)
    who = "coalesce(masterops_actor(), 'db:sqlite')"
    now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
    head = (
        "INSERT INTO audit_log"
        " (table_name, operation, row_id, old_row, new_row, changed_by, changed_at)"
    )
    return [
        f"CREATE TRIGGER {table}_audit_ins AFTER INSERT ON {name} BEGIN {head} VALUES"
        f" ('{table}', 'INSERT', {key('NEW')}, NULL, {row('NEW')}, {who}, {now}); END",
        f"CREATE TRIGGER {table}_audit_upd AFTER UPDATE ON {name}"
        f" WHEN {row('OLD')} IS NOT {row('NEW')} BEGIN {head} VALUES"
        f" ('{table}', 'UPDATE', {key('NEW')}, {row('OLD')}, {row('NEW')}, {who}, {now}); END",
        f"CREATE TRIGGER {table}_audit_del AFTER DELETE ON {name} BEGIN {head} VALUES"
        f" ('{table}', 'DELETE', {key('OLD')}, {row('OLD')}, NULL, {who}, {now}); END",
    ]


# -- both ---------------------------------------------------------------------------------


def drop_table(conn: Connection, table: str) -> None:
    """Remove ``table``'s audit triggers (and on PostgreSQL their function), if any."""
    on = f" ON {_quote(conn, table)}" if conn.dialect.name == "postgresql" else ""
    for suffix, _op in _OPS:
        conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_audit_{suffix}{on}")
    if conn.dialect.name == "postgresql":
        function = _quote(conn, f"masterops_audit_{table}")
        conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function}()")


def install_table(conn: Connection, table: str, secret: tuple[str, ...] = ()) -> None:
    """(Re)create ``table``'s audit triggers; ``secret`` columns are never recorded."""
    drop_table(conn, table)
    build = _postgres_table if conn.dialect.name == "postgresql" else _sqlite_table
    for statement in build(conn, table, secret):
        conn.exec_driver_sql(statement)


def install(conn: Connection) -> None:
    """The functions, the guard and the triggers of every table in ``AUDITED``."""
    if conn.dialect.name == "postgresql":
        schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
        for statement in [*postgres_functions(str(schema)), *POSTGRES_GUARD]:
            conn.exec_driver_sql(statement)
    else:
        for statement in SQLITE_GUARD:
            conn.exec_driver_sql(statement)
    for table, secret in AUDITED.items():
        install_table(conn, table, secret)


def uninstall(conn: Connection) -> None:
    """Every trigger and function ``install`` created (the table stays)."""
    for table in AUDITED:
        drop_table(conn, table)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        for statement in POSTGRES_FUNCTIONS_DROP:
            conn.exec_driver_sql(statement)
    else:
        for statement in SQLITE_GUARD_DROP:
            conn.exec_driver_sql(statement)
