"""PostgreSQL roles, grants and Row Level Security policies (``ops db roles apply``).

The roles are group roles (NOLOGIN): the operator creates login roles with their own
passwords and makes them members (``GRANT masterops_app TO deploy``, or ``--member``),
so no password ever passes through the platform. With the prefix ``masterops``:

- ``masterops_owner``: owns every table, view, sequence and function; runs migrations.
- ``masterops_app``: the CLI, worker and server; reads and writes every table but the
  audit log, which it only reads. No superuser, no BYPASSRLS.
- ``masterops_readonly``: dashboard and API reads; reads the views and every table that
  holds no secret (``api_tokens`` is out), through read policies.
- ``masterops_webhook``: inserts into the webhook inbox and nothing else.
- ``masterops_analyst`` and ``masterops_reader_<business>``: an analyst's login is made a
  member of the reader role of each business it may see, runs
  ``SET masterops.business_id = '<business>'`` and reads only that business's rows.

Every table gets RLS enabled *and forced*: the owner works through policies like everyone
else, so it can read and insert audit rows but never update them. The policies are
generated from the live schema: a table with a ``business_id`` column (or one listed in
``SCOPE_COLUMN``) is readable by analysts of that business; a table whose columns look
secret is not readable by the read-only role; every other table gets the owner, app and
read-only policies. A table added by a later migration is covered by running the command
again, and ``tables_without_policies`` names any table that still has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

#: The column holding the business, where it is not ``business_id``.
SCOPE_COLUMN = {"businesses": "id", "tasks": "business"}
#: Tables the read-only role may not read: they hold credentials (hashes count).
# secret_records holds fingerprints only, but what changed when is nobody else's business.
SECRET_TABLES = frozenset({"api_tokens", "secret_records"})
_SECRET_COLUMN = re.compile(r"(sha256|hash|secret|password|private_key|api_key)", re.IGNORECASE)
#: Tables the webhook role inserts into, and the columns its INSERT ... RETURNING reads.
INBOX_TABLES = {"webhook_inbox": ("source", "event_id")}
#: Supabase's API roles: on Supabase they get nothing in this schema.
API_ROLES = ("anon", "authenticated")
KINDS = ("owner", "app", "readonly", "webhook", "analyst")

_PREFIX = re.compile(r"^[a-z][a-z0-9_]{0,23}$")
_BUSINESS = re.compile(r"^[a-z0-9][a-z0-9_-]{0,30}$")


class RolesError(ValueError):
    """A prefix, business or member that cannot be used; the message says which."""


@dataclass(frozen=True)
class RoleNames:
    prefix: str = "masterops"

    def __post_init__(self) -> None:
        if not _PREFIX.match(self.prefix):
            raise RolesError(
                f"role prefix {self.prefix!r} must be 1-24 lowercase letters, digits or _, "
                "starting with a letter"
            )

    def role(self, kind: str) -> str:
        return f"{self.prefix}_{kind}"

    def reader(self, business: str) -> str:
        if not _BUSINESS.match(business):
            raise RolesError(f"business {business!r} cannot name a role (1-31 of a-z 0-9 _ -)")
        return f"{self.prefix}_reader_{business}"

    @property
    def reader_function(self) -> str:
        return f"{self.prefix}_reader_business"


@dataclass(frozen=True)
class Schema:
    """What the policies are generated from: the live schema's objects."""

    name: str
    tables: dict[str, frozenset[str]]  # table -> its columns
    views: tuple[str, ...]
    functions: tuple[str, ...]  # masterops_* signatures, e.g. masterops_audit_key(jsonb, text[])
    policies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    roles: frozenset[str] = frozenset()  # every role that exists in the cluster


def read_schema(conn: Connection) -> Schema:
    rows = conn.execute(
        text(
            "SELECT c.relname, c.relkind, a.attname FROM pg_class c"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
            " WHERE c.relnamespace = current_schema()::regnamespace"
            " AND c.relkind IN ('r', 'p', 'v')"
        )
    ).all()
    tables: dict[str, set[str]] = {}
    views: set[str] = set()
    for name, kind, column in rows:
        if kind == "v":
            views.add(name)
        else:
            tables.setdefault(name, set()).add(column)
    functions = conn.execute(
        text(
            "SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'"
            " FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace"
            " AND p.proname LIKE 'masterops\\_%' ORDER BY 1"
        )
    ).scalars()
    policies: dict[str, list[str]] = {}
    for table, policy in conn.execute(
        text("SELECT tablename, policyname FROM pg_policies WHERE schemaname = current_schema()")
    ):
        policies.setdefault(table, []).append(policy)
    return Schema(
        name=str(conn.execute(text("SELECT current_schema()")).scalar()),
        tables={t: frozenset(c) for t, c in sorted(tables.items())},
        views=tuple(sorted(views)),
        functions=tuple(str(f) for f in functions),
        policies={t: tuple(p) for t, p in policies.items()},
        roles=frozenset(conn.execute(text("SELECT rolname FROM pg_roles")).scalars()),
    )


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def scope_column(table: str, columns: Iterable[str]) -> str | None:
    """The column that says whose business a row is, if the table has one."""
    if table in SCOPE_COLUMN:
        return SCOPE_COLUMN[table]
    return "business_id" if "business_id" in columns else None


def holds_secrets(table: str, columns: Iterable[str]) -> bool:
    return table in SECRET_TABLES or any(_SECRET_COLUMN.search(c) for c in columns)


def _ensure_role(role: str) -> str:
    r = _lit(role)
    return (
        "DO $$ BEGIN\n"
        f"  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {r}) THEN\n"
        f"    CREATE ROLE {q(role)} NOLOGIN;\n"
        f"  ELSIF EXISTS (SELECT FROM pg_roles WHERE rolname = {r}"
        " AND (rolsuper OR rolbypassrls)) THEN\n"
        f"    ALTER ROLE {q(role)} NOSUPERUSER NOBYPASSRLS;\n"
        "  END IF;\n"
        "END $$"
    )


def _policies(names: RoleNames, table: str, where: str, columns: frozenset[str]) -> list[str]:
    """The CREATE POLICY statements of ``table`` (``where``: its qualified name)."""
    owner, app, readonly = names.role("owner"), names.role("app"), names.role("readonly")
    rules: list[tuple[str, str, str, str | None, str | None]] = []
    if table == "audit_log":
        # Written by the trigger function (run as the owner) and pruned by the retention
        # function; nobody updates it, and the app and dashboard read it.
        rules += [
            ("owner_select", "SELECT", owner, "true", None),
            ("owner_insert", "INSERT", owner, None, "true"),
            ("owner_delete", "DELETE", owner, "true", None),
            ("app_select", "SELECT", app, "true", None),
        ]
    else:
        rules += [
            ("owner_all", "ALL", owner, "true", "true"),
            ("app_all", "ALL", app, "true", "true"),
        ]
        if not holds_secrets(table, columns):
            rules.append(("readonly_select", "SELECT", readonly, "true", None))
            scope = scope_column(table, columns)
            if scope is not None:
                rules.append(
                    (
                        "analyst_select",
                        "SELECT",
                        names.role("analyst"),
                        f"{q(scope)} = {names.reader_function}()",
                        None,
                    )
                )
    if table in INBOX_TABLES:
        webhook = names.role("webhook")
        rules += [
            ("webhook_insert", "INSERT", webhook, None, "true"),
            # INSERT ... RETURNING needs the new row to pass a SELECT policy; the column
            # grant limits what it can read to the returned key columns.
            ("webhook_select", "SELECT", webhook, "true", None),
        ]
    statements = []
    for suffix, command, role, using, check in rules:
        sql = f"CREATE POLICY {q(f'{names.prefix}_{suffix}')} ON {where} FOR {command}"
        sql += f" TO {q(role)}"
        if using is not None:
            sql += f" USING ({using})"
        if check is not None:
            sql += f" WITH CHECK ({check})"
        statements.append(sql)
    return statements


def plan(
    schema: Schema,
    names: RoleNames,
    businesses: Sequence[str],
    *,
    members: Sequence[tuple[str, str]] = (),
    api_roles: Sequence[str] = API_ROLES,
) -> list[str]:
    """Every statement ``apply`` runs, in order; running them twice changes nothing."""
    s = q(schema.name)
    owner, app, readonly = names.role("owner"), names.role("app"), names.role("readonly")
    webhook, analyst = names.role("webhook"), names.role("analyst")
    readers = [names.reader(b) for b in businesses]
    out = [_ensure_role(r) for r in (*(names.role(k) for k in KINDS), *readers)]
    out += [f"GRANT {q(analyst)} TO {q(r)}" for r in readers]
    out.append(
        f"CREATE OR REPLACE FUNCTION {s}.{names.reader_function}() RETURNS text"
        " LANGUAGE sql STABLE AS $$"
        " SELECT s.b FROM (SELECT NULLIF(current_setting('masterops.business_id', true), '')"
        " AS b) s JOIN pg_catalog.pg_roles r"
        f" ON r.rolname = {_lit(names.prefix + '_reader_')} || s.b"
        " WHERE pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER') $$"
    )
    reader_function = f"{names.reader_function}()"
    functions = [f"{s}.{f}" for f in sorted({*schema.functions, reader_function})]
    # Ownership first: the owner role owns everything, whoever ran the migrations.
    out += [f"ALTER TABLE {s}.{q(t)} OWNER TO {q(owner)}" for t in schema.tables]
    out += [f"ALTER VIEW {s}.{q(v)} OWNER TO {q(owner)}" for v in schema.views]
    out += [f"ALTER FUNCTION {f} OWNER TO {q(owner)}" for f in functions]
    # Start from nothing for PUBLIC and our roles, so a re-run also takes back what a
    # previous classification granted.
    grantees = ", ".join(q(r) for r in ("PUBLIC", app, readonly, webhook, analyst))
    grantees = grantees.replace('"PUBLIC"', "PUBLIC")
    out += [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {grantees}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {grantees}",
        *(f"REVOKE ALL ON FUNCTION {f} FROM {grantees}" for f in functions),
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {q(owner)}",
        f"GRANT USAGE ON SCHEMA {s} TO {q(app)}, {q(readonly)}, {q(webhook)}, {q(analyst)}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {q(app)}",
        f"GRANT EXECUTE ON FUNCTION {s}.{names.reader_function}() TO {q(analyst)}",
    ]
    for t, columns in schema.tables.items():
        table = f"{s}.{q(t)}"
        if t == "alembic_version":
            # Not data: no RLS, the grants decide; everyone checks the schema's revision.
            out.append(f"GRANT SELECT ON {table} TO {q(app)}, {q(readonly)}")
            continue
        if t == "audit_log":
            out.append(f"GRANT SELECT ON {table} TO {q(app)}")
        else:
            out.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {q(app)}")
            if not holds_secrets(t, columns):
                out.append(f"GRANT SELECT ON {table} TO {q(readonly)}")
                if scope_column(t, columns) is not None:
                    out.append(f"GRANT SELECT ON {table} TO {q(analyst)}")
        if t in INBOX_TABLES:
            returned = ", ".join(q(c) for c in INBOX_TABLES[t])
            out.append(f"GRANT INSERT, SELECT ({returned}) ON {table} TO {q(webhook)}")
            out.append(
                f"GRANT USAGE ON SEQUENCE {s}.{q(t + '_id_seq')} TO {q(webhook)}"
                if "id" in columns
                else f"-- {t} has no id sequence"
            )
        out.append(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        out.append(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        prefix = names.prefix + "_"
        out += [
            f"DROP POLICY {q(p)} ON {table}"
            for p in schema.policies.get(t, ())
            if p.startswith(prefix)
        ]
        out += _policies(names, t, table, columns)
    for v in schema.views:
        out.append(f"ALTER VIEW {s}.{q(v)} SET (security_invoker = true)")
        out.append(f"GRANT SELECT ON {s}.{q(v)} TO {q(app)}, {q(readonly)}, {q(analyst)}")
    # Objects the owner creates later (migrations) are usable by the app at once; their
    # policies come from running this again.
    out += [
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {s}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {q(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {s}"
        f" GRANT USAGE, SELECT ON SEQUENCES TO {q(app)}",
        # Functions are executable by PUBLIC by default, a default only the global form
        # (no IN SCHEMA) takes back.
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
    ]
    for role in api_roles:
        if role in schema.roles:
            out += [
                f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {q(role)}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {q(role)}",
                *(f"REVOKE ALL ON FUNCTION {f} FROM {q(role)}" for f in functions),
            ]
    for kind, login in members:
        out.append(f"GRANT {q(member_role(names, kind))} TO {q(login)}")
    return out


def member_role(names: RoleNames, kind: str) -> str:
    """The group role ``--member KIND=LOGIN`` names: a kind, or ``reader:<business>``."""
    if kind.startswith("reader:"):
        return names.reader(kind.removeprefix("reader:"))
    if kind not in KINDS:
        raise RolesError(
            f"role kind {kind!r} is not one of {', '.join(KINDS)} or reader:<business>"
        )
    return names.role(kind)


def apply(conn: Connection, statements: Sequence[str]) -> None:
    """Run ``plan``'s statements (in the caller's transaction: all or nothing)."""
    for statement in statements:
        if not statement.startswith("--"):
            conn.exec_driver_sql(statement)


def tables_without_policies(conn: Connection) -> list[str]:
    """Tables of the current schema with RLS enabled and no policy: nobody but a
    superuser (or a BYPASSRLS role) can read them, which is never what was meant."""
    return list(
        conn.execute(
            text(
                "SELECT c.relname FROM pg_class c WHERE c.relkind = 'r'"
                " AND c.relnamespace = current_schema()::regnamespace AND c.relrowsecurity"
                " AND NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = c.oid)"
                " ORDER BY 1"
            )
        ).scalars()
    )


def connection_warnings(conn: Connection) -> list[str]:
    """What is wrong with the role this connection uses for the platform's everyday work:
    a superuser or BYPASSRLS role skips every policy; the tables' owner can change them."""
    row = conn.execute(
        text(
            "SELECT r.rolname, r.rolsuper, r.rolbypassrls,"
            " (SELECT bool_or(pg_has_role(current_user, c.relowner, 'USAGE')) FROM pg_class c"
            "  WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r')"
            " FROM pg_roles r WHERE r.rolname = current_user"
        )
    ).one()
    name, superuser, bypass, owns = row
    warnings = []
    if superuser:
        warnings.append(
            f"the platform connects as {name!r}, a superuser: Row Level Security and every "
            "grant are bypassed; connect as a member of the app role (ops db roles apply)"
        )
    elif bypass:
        warnings.append(
            f"the platform connects as {name!r}, which has BYPASSRLS: every policy is skipped"
        )
    if owns and not superuser:
        warnings.append(
            f"the platform connects as {name!r}, which owns the tables (or acts as their "
            "owner): keep that role for migrations and connect as the app role"
        )
    return warnings
