"""Bad input to ``ops`` is refused with one line that names the flag and the fix (issue #10, 8).

Every case runs the real entry point in-process, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from masterops.db.engine import create_db_engine
from masterops.db.tables import integration_logs

HUGE = "99999999999999999999"


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "unexpected" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("logs", "--business", "acme"), "--business: unknown business 'acme'; known: teelixir"),
        (("logs", "--since", "1h", "--until", "2h"), "is after --until 2h"),
        (("logs", "--limit", HUGE), "Invalid value for '--limit'"),
        (("logs", "--limit", "0"), "Invalid value for '--limit'"),
        (("logs", "--since", "99999999999d"), "--since: '99999999999d' is too long a duration"),
        (("logs", "--since", "9999999d"), "--since: '9999999d' ago is before the year 1"),
        (("logs", "--until", "9999999w"), "--until: '9999999w'"),
        (("db", "query", "tasks", "--limit", HUGE), "Invalid value for '--limit'"),
        (("tasks", "list", "--limit", HUGE), "Invalid value for '--limit'"),
        (("webhooks", "list", "--limit", HUGE), "Invalid value for '--limit'"),
        (("stats", "--hours", "1e30"), "Invalid value for '--hours'"),
        (("db", "prune", "--older-than", "99999999999d", "--dry-run"), "--older-than: "),
    ],
)
def test_bad_values_are_one_line_naming_the_flag(ops, args, message) -> None:  # type: ignore[no-untyped-def]
    result = ops(*args)
    assert result.exit_code == 2, result.stderr
    assert message in _one_line(result.stderr)


def test_a_known_business_and_a_forward_window_still_read(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    engine = create_db_engine(database.url)
    with engine.begin() as conn:
        conn.execute(
            insert(integration_logs),
            [
                {
                    "source": "sync",
                    "level": "info",
                    "business_id": "teelixir",
                    "message": "in window",
                    "created_at": datetime.now(UTC) - timedelta(minutes=90),
                }
            ],
        )
    engine.dispose()
    result = ops("logs", "--business", "teelixir", "--since", "2h", "--until", "1h", "--json")
    assert result.exit_code == 0, result.stderr
    assert [json.loads(line)["message"] for line in result.stdout.splitlines()] == ["in window"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("logs", "--bogus"), "error: No such option: --bogus (see 'ops logs --help')"),
        (("lgos",), "error: No such command 'lgos'. Did you mean 'logs'? (see 'ops --help')"),
        (
            ("db", "query"),
            "error: Missing argument 'table' (see 'ops db query --help')",
        ),
        (
            ("logs", "--limit", "many"),
            "error: Invalid value for '--limit': Input should be a valid integer, unable to "
            "parse string as an integer (see 'ops logs --help')",
        ),
    ],
)
def test_a_mistyped_command_or_flag_is_one_line(ops, args, message) -> None:  # type: ignore[no-untyped-def]
    result = ops(*args)
    assert result.exit_code == 2
    assert _one_line(result.stderr) == message
    assert result.stdout == ""


def test_health_exits_3_when_the_schema_is_behind(ops, database) -> None:  # type: ignore[no-untyped-def]
    from masterops.db import migrate

    ops("db", "upgrade")
    engine = create_db_engine(database.url)
    migrate.downgrade(engine, migrate.known_revisions()[-2])  # one migration behind
    engine.dispose()
    result = ops("health", "--no-alerts", "--json")
    if database.backend == "sqlite":
        # The embedded default migrates itself: nothing is behind by the time it checks.
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 3
    assert _one_line(result.stderr) == (
        "error: the database schema is behind (1 migration(s) pending): run `ops db upgrade`"
    )
    docker = ops("health", "--no-alerts", "--exit-codes", "docker")
    assert docker.exit_code == 1 and "schema is behind" in docker.stderr
    assert ops("db", "upgrade").exit_code == 0
    assert ops("health", "--no-alerts", "--json").exit_code == 0
