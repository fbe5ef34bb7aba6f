"""Destructive commands ask first: ``ops db prune`` and ``ops db downgrade`` (issue #10, 3).

On a terminal they ask; a script must pass ``--yes``; ``--dry-run`` shows the counts and
changes nothing; ``prune`` needs an explicit age and refuses one under a week without
``--force``. The terminal is a real pseudo-terminal on stdin, in-process.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, inspect, select

from masterops.db import migrate
from masterops.db.engine import create_db_engine
from masterops.db.tables import api_metrics, integration_logs


def _seed_logs(url: str) -> None:
    """Three log rows (2 h, 10 days and 40 days old) and one metric row (40 days old)."""
    now = datetime.now(UTC)
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(integration_logs),
            [
                {"source": "sync", "level": "info", "message": m, "created_at": now - age}
                for m, age in (
                    ("fresh", timedelta(hours=2)),
                    ("week-old", timedelta(days=10)),
                    ("old", timedelta(days=40)),
                )
            ],
        )
        conn.execute(
            insert(api_metrics),
            [
                {
                    "service": "hubspot",
                    "endpoint": "/x",
                    "method": "GET",
                    "status_code": 200,
                    "duration_ms": 5,
                    "success": True,
                    "created_at": now - timedelta(days=40),
                }
            ],
        )
    engine.dispose()


def _log_count(url: str) -> int:
    engine = create_db_engine(url)
    with engine.connect() as conn:
        count = int(conn.execute(select(func.count()).select_from(integration_logs)).scalar_one())
    engine.dispose()
    return count


def _tables(url: str) -> set[str]:
    engine = create_db_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A pseudo-terminal as stdin: ``terminal("y")`` queues what the operator types."""
    master, slave = os.openpty()
    stdin = open(slave, encoding="utf-8", closefd=True)  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stdin", stdin)

    def type_in(answer: str) -> None:
        os.write(master, (answer + "\n").encode())

    yield type_in
    stdin.close()
    os.close(master)


def test_prune_without_an_age_is_refused(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    result = ops("db", "prune", "--yes")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: Missing option '--older-than' (see 'ops db prune --help')"
    )
    assert _log_count(database.url) == 3


def test_prune_under_a_week_needs_force(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    refused = ops("db", "prune", "--older-than", "0d", "--yes")
    assert refused.exit_code == 2
    assert "younger than 7 days; pass --force" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert _log_count(database.url) == 3
    forced = json.loads(
        ops("db", "prune", "--older-than", "1d", "--force", "--yes", "--json").stdout
    )
    assert forced["deleted"]["integration_logs"] == 2
    assert _log_count(database.url) == 1


def test_prune_dry_run_counts_and_deletes_nothing(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    planned = ops("db", "prune", "--older-than", "30d", "--dry-run", "--json")
    assert planned.exit_code == 0, planned.stderr
    report = json.loads(planned.stdout)
    assert report["dry_run"] is True
    assert report["would_delete"]["integration_logs"] == 1
    assert report["would_delete"]["api_metrics"] == 1
    # A dry run may look below the minimum: it deletes nothing.
    young = json.loads(ops("db", "prune", "--older-than", "0d", "--dry-run", "--json").stdout)
    assert young["would_delete"]["integration_logs"] == 3
    table = ops("db", "prune", "--older-than", "7d", "--dry-run")
    assert "dry run, nothing deleted" in table.stdout
    assert _log_count(database.url) == 3


def test_prune_from_a_script_needs_yes(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    refused = ops("db", "prune", "--older-than", "30d")
    assert refused.exit_code == 2
    assert refused.stderr.strip() == (
        "error: not confirmed and no terminal to ask on: pass --yes to go ahead "
        "(or --dry-run to see what it would do)"
    )
    assert _log_count(database.url) == 3
    done = json.loads(ops("db", "prune", "--older-than", "30d", "--yes", "--json").stdout)
    assert done["deleted"]["integration_logs"] == 1 and _log_count(database.url) == 2


def test_prune_asks_on_a_terminal(ops, database, terminal) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    terminal("n")
    declined = ops("db", "prune", "--older-than", "30d")
    assert declined.exit_code == 1
    assert "Delete 2 rows older than" in declined.stderr
    assert "(1 integration_logs, 1 api_metrics)?" in declined.stderr
    assert "cancelled: nothing was changed" in declined.stderr
    assert _log_count(database.url) == 3
    terminal("y")
    accepted = ops("db", "prune", "--older-than", "30d", "--json")
    assert accepted.exit_code == 0, accepted.stderr
    assert json.loads(accepted.stdout)["deleted"]["integration_logs"] == 1
    assert _log_count(database.url) == 2


def test_downgrade_base_asks_and_dry_run_lists_what_goes(ops, database, terminal) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    _seed_logs(database.url)
    planned = json.loads(ops("db", "downgrade", "base", "--dry-run", "--json").stdout)
    assert [r["revision"] for r in planned["revert"]] == list(reversed(migrate.known_revisions()))
    assert planned["rows_dropped"]["integration_logs"] == 3
    assert "integration_logs" in _tables(database.url)

    terminal("n")
    declined = ops("db", "downgrade", "base")
    assert declined.exit_code == 1
    assert "every table is dropped, with 4 rows?" in declined.stderr
    assert "integration_logs" in _tables(database.url)

    terminal("y")
    previous = migrate.known_revisions()[-2]
    accepted = ops("db", "downgrade", previous)
    assert accepted.exit_code == 0, accepted.stderr
    assert "Revert 1 migration(s)" in accepted.stderr
    done = ops("db", "downgrade", "base", "--yes", "--json")
    assert json.loads(done.stdout) == {"from": previous, "to": None}
    assert "integration_logs" not in _tables(database.url)


def test_downgrade_from_a_script_needs_yes(ops, database) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    scripted = ops("db", "downgrade", "base")
    assert scripted.exit_code == 2 and "pass --yes" in scripted.stderr
    assert "integration_logs" in _tables(database.url)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("db", "upgrade", "--revision", "0099"), "--revision: unknown revision '0099'; known: "),
        (("db", "downgrade", "nope", "--yes"), "REVISION: unknown revision 'nope'; known: base"),
        (("db", "downgrade", "head", "--yes"), "head is not below the current revision"),
    ],
)
def test_unknown_revision_names_the_known_ones(ops, args, message) -> None:  # type: ignore[no-untyped-def]
    ops("db", "upgrade")
    result = ops(*args)
    assert result.exit_code == 2
    assert message in result.stderr and "unexpected" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
