"""``ops audit``, ``ops db roles apply`` and ``ops config check``'s role warnings, through
the real entry point on both databases."""

from __future__ import annotations

import getpass
import json

from sqlalchemy import text

from masterops.db.engine import create_db_engine


def test_cli_changes_are_audited_as_the_cli_user(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("tasks", "add", "Restock", "-b", "teelixir").exit_code == 0
    shown = ops("audit", "--json")
    assert shown.exit_code == 0, shown.stderr
    (entry,) = json.loads(shown.stdout)
    assert entry["actor"] == f"cli:{getpass.getuser()}"
    assert (entry["table"], entry["operation"]) == ("tasks", "INSERT")
    assert entry["new"]["title"] == "Restock"
    for args in (("--table", "tasks"), ("--actor", "cli:"), ("--since", "1h")):
        assert len(json.loads(ops("audit", "--json", *args).stdout)) == 1, args
    assert json.loads(ops("audit", "--json", "--actor", "api:").stdout) == []
    table = ops("audit")
    assert table.exit_code == 0 and "Restock" not in table.stdout and "tasks" in table.stdout


def test_audit_refuses_bad_filters_in_one_line(ops) -> None:  # type: ignore[no-untyped-def]
    bad = ops("audit", "--table", "prodcts")
    assert bad.exit_code == 2 and "not audited" in bad.stderr and "products" in bad.stderr
    assert "Traceback" not in bad.stderr
    since = ops("audit", "--since", "yesterday-ish")
    assert since.exit_code == 2 and since.stderr.startswith("error: --since")


def test_audit_prune_keeps_young_entries(ops) -> None:  # type: ignore[no-untyped-def]
    assert ops("tasks", "add", "Restock", "-b", "teelixir").exit_code == 0
    young = ops("audit", "prune", "--older-than", "1d")
    assert young.exit_code == 2 and "--force" in young.stderr
    dry = ops("audit", "prune", "--older-than", "1d", "--dry-run", "--json")
    assert json.loads(dry.stdout)["would_delete"] == 0
    done = ops("audit", "prune", "--older-than", "365d", "--yes", "--json")
    assert done.exit_code == 0 and json.loads(done.stdout)["deleted"] == 0
    assert len(json.loads(ops("audit", "--json").stdout)) == 1


def test_roles_apply_is_postgres_only(ops, database) -> None:  # type: ignore[no-untyped-def]
    if database.backend != "sqlite":
        return
    result = ops("db", "roles", "apply")
    assert result.exit_code == 2 and "PostgreSQL" in result.stderr


def test_roles_apply_checks_its_options(ops) -> None:  # type: ignore[no-untyped-def]
    bad = ops("db", "roles", "apply", "--prefix", "Bad-Prefix")
    assert bad.exit_code == 2 and "prefix" in bad.stderr
    member = ops("db", "roles", "apply", "--member", "root=alice")
    assert member.exit_code == 2 and "root" in member.stderr
    shape = ops("db", "roles", "apply", "--member", "alice")
    assert shape.exit_code == 2 and "KIND=LOGIN" in shape.stderr


def test_roles_print_emits_sql_and_changes_nothing(ops, database, role_prefix) -> None:  # type: ignore[no-untyped-def]
    printed = ops("db", "roles", "apply", "--print", "--prefix", role_prefix)
    assert printed.exit_code == 0, printed.stderr
    sql = printed.stdout
    assert sql.startswith("BEGIN;") and sql.rstrip().endswith("COMMIT;")
    assert f'CREATE ROLE "{role_prefix}_app" NOLOGIN' in sql
    assert "FORCE ROW LEVEL SECURITY" in sql and "security_invoker = true" in sql
    assert "PASSWORD" not in sql.upper()
    engine = create_db_engine(database.url)
    try:
        with engine.connect() as conn:
            made = conn.execute(
                text("SELECT count(*) FROM pg_roles WHERE rolname LIKE :p"),
                {"p": role_prefix + "\\_%"},
            ).scalar()
        assert made == 0
        applied = ops("db", "roles", "apply", "--prefix", role_prefix, "--json")
        assert applied.exit_code == 0, applied.stderr
        assert json.loads(applied.stdout)["tables_without_policies"] == []
        assert f"{role_prefix}_reader_teelixir" in json.loads(applied.stdout)["roles"]
        upgraded = ops("db", "upgrade")
        assert upgraded.exit_code == 0 and "no policy" not in upgraded.stderr
    finally:
        engine.dispose()


def test_upgrade_says_when_tables_have_no_policy(ops, database) -> None:  # type: ignore[no-untyped-def]
    upgraded = ops("db", "upgrade")
    assert upgraded.exit_code == 0
    if database.backend == "postgresql":
        assert "ops db roles apply" in upgraded.stderr
    else:
        assert upgraded.stderr == ""


def test_config_check_warns_about_a_superuser_connection(ops, database) -> None:  # type: ignore[no-untyped-def]
    checked = ops("config", "check", "--json")
    warnings = json.loads(checked.stdout)["warnings"]
    if database.backend == "postgresql":
        assert any("superuser" in w for w in warnings)  # the test cluster's postgres
        assert "warning:" in ops("config", "check").stdout
    else:
        assert warnings == []
