"""PostgreSQL roles: connect as each and prove what it can and cannot read, write and bypass.

Roles are cluster-wide and the cluster is shared: every test makes its own prefix, its own
login roles, and drops them all at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from masterops.db import audit, roles
from masterops.db.engine import create_db_engine
from masterops.web.inbox import InboxEvent, store_events

if TYPE_CHECKING:  # the fixture's type; conftest modules are not imported by name
    from tests.conftest import Database

KINDS = ("owner", "app", "readonly", "webhook")


@dataclass
class Cluster:
    names: roles.RoleNames
    admin: Engine
    database: Database
    logins: dict[str, str]  # kind -> login role
    engines: list[Engine]

    def apply(self, businesses: tuple[str, ...] = ("teelixir", "elevate"), **kw: object) -> None:
        members = [(k, login) for k, login in self.logins.items()]
        with self.admin.begin() as conn:
            plan = roles.plan(
                roles.read_schema(conn), self.names, businesses, members=members, **kw
            )  # type: ignore[arg-type]
            roles.apply(conn, plan)

    def login(self, kind: str) -> Engine:
        """An engine that connects as the login role of ``kind`` (the platform's engine)."""
        url = make_url(self.database.url).set(username=self.logins[kind])
        engine = create_db_engine(url.render_as_string(hide_password=False))
        self.engines.append(engine)
        return engine


@pytest.fixture
def cluster(engine: Engine, database: Database, role_prefix: str) -> Iterator[Cluster]:
    names = roles.RoleNames(role_prefix)
    logins = {k: f"{role_prefix}_login_{k.replace(':', '_')}" for k in (*KINDS, "reader:teelixir")}
    with engine.begin() as conn:
        for login in logins.values():
            conn.exec_driver_sql(f'CREATE ROLE "{login}" LOGIN')
    c = Cluster(names, engine, database, logins, [])
    try:
        yield c
    finally:
        for e in c.engines:
            e.dispose()


def _seed(conn: Connection) -> None:
    for business, guid in (("teelixir", "t1"), ("elevate", "e1"), ("elevate", "e2")):
        conn.execute(
            text(
                "INSERT INTO products (business_id, unleashed_guid, product_code, is_obsolete)"
                " VALUES (:b, :g, :g, false)"
            ),
            {"b": business, "g": guid},
        )
    conn.execute(
        text(
            "INSERT INTO businesses (id, name, services, enabled) VALUES"
            " ('teelixir', 'Teelixir', '[]', true), ('elevate', 'Elevate', '[]', true)"
        )
    )
    conn.execute(
        text(
            "INSERT INTO integration_logs (source, level, message, business_id) VALUES"
            " ('sync', 'error', 'x', 'teelixir'), ('sync', 'error', 'y', 'elevate')"
        )
    )
    conn.execute(
        text(
            "INSERT INTO api_tokens (name, token_sha256, scope, created_at)"
            " VALUES ('ci', repeat('a', 64), 'read', now())"
        )
    )


def _refused(engine: Engine, sql: str) -> str:
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql))
    return str(info.value.orig)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql)).scalar() or 0)


def test_every_table_gets_forced_rls_and_policies_and_views_run_as_the_reader(
    cluster: Cluster,
) -> None:
    with cluster.admin.connect() as conn:
        assert roles.tables_without_policies(conn)  # main's RLS with 0 policies
    cluster.apply()
    cluster.apply()  # idempotent: a second run succeeds and changes nothing
    with cluster.admin.connect() as conn:
        assert roles.tables_without_policies(conn) == []
        unforced = conn.execute(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname <> 'alembic_version'"
                " AND relnamespace = current_schema()::regnamespace AND NOT relforcerowsecurity"
            )
        ).all()
        assert unforced == []
        invoker = conn.execute(
            text(
                "SELECT relname, reloptions FROM pg_class WHERE relkind = 'v'"
                " AND relnamespace = current_schema()::regnamespace"
            )
        ).all()
        assert invoker and all("security_invoker=true" in (o or []) for _, o in invoker)
        owners = set(
            conn.execute(
                text(
                    "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
                    " WHERE relkind IN ('r', 'v') AND relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
        )
        assert owners == {cluster.names.role("owner")}


def test_a_table_added_later_is_covered_by_running_apply_again(cluster: Cluster) -> None:
    cluster.apply()
    with cluster.admin.begin() as conn:
        _seed(conn)
        conn.exec_driver_sql("CREATE TABLE later_rollups (business_id text, n int)")
        conn.exec_driver_sql("ALTER TABLE later_rollups ENABLE ROW LEVEL SECURITY")
        conn.exec_driver_sql("INSERT INTO later_rollups VALUES ('teelixir', 1), ('elevate', 2)")
        assert roles.tables_without_policies(conn) == ["later_rollups"]
    cluster.apply()
    with cluster.admin.connect() as conn:
        assert roles.tables_without_policies(conn) == []
    reader = cluster.login("reader:teelixir")
    with reader.connect() as conn:
        conn.exec_driver_sql("SET masterops.business_id = 'teelixir'")
        assert conn.execute(text("SELECT n FROM later_rollups")).scalars().all() == [1]


def test_app_reads_and_writes_but_cannot_bypass_or_touch_the_audit(cluster: Cluster) -> None:
    cluster.apply()
    app = cluster.login("app")
    with app.connect() as conn:
        rolsuper, bypass = conn.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        assert (rolsuper, bypass) == (False, False)
        assert roles.connection_warnings(conn) == []
    with audit.acting_as("worker:w1"), app.begin() as conn:
        _seed(conn)
        conn.execute(text("UPDATE products SET description = 'd' WHERE unleashed_guid = 't1'"))
    assert _count(app, "SELECT count(*) FROM products") == 3
    assert _count(app, "SELECT count(*) FROM api_tokens") == 1
    with app.connect() as conn:
        entries = audit.read_entries(conn, table="products")
    assert {e.actor for e in entries} == {"worker:w1"}
    assert {e.db_role for e in entries} == {cluster.logins["app"]}
    assert "permission denied" in _refused(app, "UPDATE audit_log SET changed_by = 'x'")
    assert "permission denied" in _refused(app, "DELETE FROM audit_log")
    assert "permission denied" in _refused(
        app, "INSERT INTO audit_log (table_name, operation, changed_by) VALUES ('x', 'x', 'x')"
    )
    assert "permission denied" in _refused(app, "SELECT masterops_audit_prune(now())")
    assert "row-level security" in _refused(
        app, "SET row_security = off; SELECT count(*) FROM products"
    )
    assert "must be owner" in _refused(app, "ALTER TABLE products DISABLE ROW LEVEL SECURITY")


def test_readonly_reads_views_and_data_but_no_secret_and_writes_nothing(cluster: Cluster) -> None:
    cluster.apply()
    with cluster.admin.begin() as conn:
        _seed(conn)
    ro = cluster.login("readonly")
    assert _count(ro, "SELECT count(*) FROM products") == 3
    assert _count(ro, "SELECT count(*) FROM recent_errors") == 2
    assert "permission denied" in _refused(ro, "SELECT * FROM api_tokens")
    assert "permission denied" in _refused(ro, "SELECT * FROM audit_log")
    assert "permission denied" in _refused(ro, "UPDATE products SET description = 'x'")
    assert "permission denied" in _refused(
        ro,
        "INSERT INTO tasks (title, priority, status, current_step, retry_count, max_retries)"
        " VALUES ('x', 1, 'pending', 0, 0, 3)",
    )


def test_webhook_role_only_inserts_into_the_inbox(cluster: Cluster) -> None:
    cluster.apply()
    hook = cluster.login("webhook")
    event = InboxEvent(
        source="hubspot",
        event_id="e-1",
        business_id="teelixir",
        subscription_type="contact.creation",
        object_id="1",
        occurred_at=datetime.now(UTC),
        payload={"objectId": 1},
        error=None,
    )
    # The platform's own receiver path (INSERT ... ON CONFLICT DO NOTHING RETURNING).
    assert store_events(hook, [event]).new == 1
    assert store_events(hook, [event]).new == 0  # a redelivery is a no-op
    assert "permission denied" in _refused(hook, "SELECT payload_json FROM webhook_inbox")
    assert "permission denied" in _refused(hook, "UPDATE webhook_inbox SET status = 'x'")
    assert "permission denied" in _refused(hook, "DELETE FROM webhook_inbox")
    assert "permission denied" in _refused(hook, "SELECT * FROM products")
    assert "permission denied" in _refused(hook, "SELECT * FROM recent_errors")


def test_business_reader_sees_only_its_business(cluster: Cluster) -> None:
    cluster.apply()
    with cluster.admin.begin() as conn:
        _seed(conn)
    reader = cluster.login("reader:teelixir")
    with reader.connect() as conn:
        # No business chosen: nothing.
        assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 0
        conn.exec_driver_sql("SET masterops.business_id = 'teelixir'")
        assert conn.execute(text("SELECT business_id FROM products")).scalars().all() == [
            "teelixir"
        ]
        assert conn.execute(text("SELECT id FROM businesses")).scalars().all() == ["teelixir"]
        # Through a view too: it runs with the reader's policies (security_invoker).
        assert conn.execute(text("SELECT count(*) FROM recent_errors")).scalar() == 1
        # Naming a business it is not a reader of shows nothing at all.
        conn.exec_driver_sql("SET masterops.business_id = 'elevate'")
        assert conn.execute(text("SELECT count(*) FROM products")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM integration_logs")).scalar() == 0
    assert "permission denied" in _refused(reader, "SELECT * FROM api_tokens")
    assert "permission denied" in _refused(reader, "SELECT * FROM worker_heartbeats")
    assert "permission denied" in _refused(reader, "DELETE FROM products")


def test_owner_is_held_by_the_policies_on_the_audit(cluster: Cluster) -> None:
    cluster.apply()
    owner = cluster.login("owner")
    with audit.acting_as("cli:alice"), owner.begin() as conn:
        _seed(conn)
        assert roles.connection_warnings(conn) and "owns the tables" in " ".join(
            roles.connection_warnings(conn)
        )
    n = _count(owner, "SELECT count(*) FROM audit_log")
    assert n > 0
    with owner.begin() as conn:  # FORCE: no UPDATE policy, so no row is even visible
        assert conn.execute(text("UPDATE audit_log SET changed_by = 'x'")).rowcount == 0
    assert "append-only" in _refused(owner, "DELETE FROM audit_log")
    assert "append-only" in _refused(owner, "TRUNCATE audit_log")
    with owner.begin() as conn:  # the retention job
        assert audit.prune(conn, datetime.now(UTC) + timedelta(minutes=1)) == n


def test_superuser_connection_is_warned_about(cluster: Cluster) -> None:
    with cluster.admin.connect() as conn:
        warnings = roles.connection_warnings(conn)
    assert any("superuser" in w for w in warnings)


def test_supabase_api_roles_get_nothing(cluster: Cluster) -> None:
    anon = cluster.names.prefix + "_anon"
    with cluster.admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{anon}" NOLOGIN')
        conn.exec_driver_sql(f'GRANT SELECT ON products, recent_errors TO "{anon}"')
    cluster.apply(api_roles=(anon,))
    with cluster.admin.connect() as conn:
        granted = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.role_table_grants"
                " WHERE grantee = :r AND table_schema = current_schema()"
            ),
            {"r": anon},
        ).scalar()
    assert granted == 0
