"""``ops sync status`` and ``ops sync show`` (issue #10 point 6), in-process on the
embedded sandbox: the issue's own case, an orders sync after the sandbox forgot the
contacts, ends with refused links whose reasons the two commands group and list."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

#: The ``ops`` fixture: ``ops(*args)`` runs the real entry point in-process.
Ops = Callable[..., Any]


@pytest.fixture
def refused_run(ops: Ops) -> dict[str, Any]:
    """The ``ops sync status`` row of teelixir's orders run after its contacts were lost."""
    assert ops("sync", "customers", "--business", "teelixir").exit_code == 0
    # HubSpot forgets the contacts; the database still names them (issue #10's 289).
    assert ops("sandbox", "reset", "--yes").exit_code == 0
    failed = ops("sync", "orders", "--business", "teelixir")
    assert failed.exit_code == 1 and "item(s) failed" in failed.stderr
    status = ops("sync", "status", "--business", "teelixir", "--entity", "orders", "--json")
    assert status.exit_code == 0, status.stderr
    [run] = json.loads(status.stdout)["runs"]
    assert isinstance(run, dict)
    return run


def test_status_gives_the_last_run_of_each_sync_with_its_reasons_grouped(
    ops: Ops,
    refused_run: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = refused_run
    assert (run["business_id"], run["entity"], run["status"]) == ("teelixir", "orders", "succeeded")
    assert run["failed"] > 0 and run["refused_count"] == run["failed"]
    assert run["duration_s"] is not None and run["duration_s"] >= 0
    reasons = run["top_reasons"]
    assert 0 < len(reasons) <= 3
    counts = [r["count"] for r in reasons]
    assert counts == sorted(counts, reverse=True) and sum(counts) <= run["refused_count"]
    assert all(r["reason"].endswith("does not exist.") for r in reasons)

    every = json.loads(ops("sync", "status", "--json").stdout)["runs"]
    assert {(r["business_id"], r["entity"]) for r in every} == {
        ("teelixir", "customers"),
        ("teelixir", "orders"),
    }
    assert [r["id"] for r in every if r["entity"] == "orders"] == [run["id"]]

    monkeypatch.setenv("COLUMNS", "100")  # the width the issue asks tables to fit
    table = ops("sync", "status", "--business", "teelixir")
    assert table.exit_code == 0
    assert max(len(line) for line in table.stdout.splitlines()) <= 100
    first = reasons[0]
    assert f"{first['count']} \u00d7 {first['reason']}" in table.stdout
    assert f"run {run['id']} (teelixir orders, succeeded):" in table.stdout
    if sum(counts) < run["refused_count"]:
        assert f"ops sync show {run['id']}" in table.stdout


def test_show_lists_every_refused_item_with_its_reason(
    ops: Ops,
    refused_run: dict[str, Any],
) -> None:
    shown = ops("sync", "show", str(refused_run["id"]), "--json")
    assert shown.exit_code == 0, shown.stderr
    run = json.loads(shown.stdout)
    assert run["id"] == refused_run["id"] and run["refused_count"] == refused_run["failed"]
    assert len(run["refused"]) == refused_run["failed"]
    for item in run["refused"]:
        assert set(item) == {"item_kind", "item_key", "category", "status_code", "reason"}
        assert item["item_kind"] == "association"
        assert (item["category"], item["status_code"]) == ("NOT_FOUND", 404)
        assert item["item_key"].startswith("SO-")
        # The contacts and companies of the customers sync are gone from HubSpot.
        assert re.fullmatch(r"(Contact|Company) \d+ does not exist\.", item["reason"]), item
    assert any(item["reason"].startswith("Contact ") for item in run["refused"])

    limited = ops("sync", "show", str(refused_run["id"]), "--limit", "2", "--wide")
    assert limited.exit_code == 0
    first, second = run["refused"][:2]
    for item in (first, second):
        assert item["item_key"] in limited.stdout and item["reason"] in limited.stdout
    assert run["refused"][2]["item_key"] not in limited.stdout
    assert f"showing 2 of {refused_run['failed']} refused items" in limited.stdout


def test_pruning_the_run_prunes_its_reasons(
    ops: Ops,
    refused_run: dict[str, Any],
) -> None:
    pruned = ops("db", "prune", "--older-than", "0d", "--force", "--yes", "--json")
    assert pruned.exit_code == 0, pruned.stderr
    left = ops("db", "query", "sync_refusals", "--json")
    assert left.exit_code == 0 and json.loads(left.stdout) == []
    gone = ops("sync", "show", str(refused_run["id"]))
    assert gone.exit_code == 2


def test_unknown_runs_entities_and_businesses_are_one_line_errors(ops: Ops) -> None:
    assert ops("sync", "status").stdout.strip().startswith("no sync has run yet")
    for args, message in [
        (("sync", "show", "12345"), "error: no sync run 12345 (see 'ops sync status'"),
        (("sync", "show", "0"), "error: Invalid value for 'RUN'"),
        (("sync", "show", "abc"), "error: Invalid value for 'RUN'"),
        (("sync", "show", str(2**70)), "error: Invalid value for 'RUN'"),
        (("sync", "show", "1", "--limit", "0"), "error: Invalid value for '--limit'"),
        (("sync", "status", "--entity", "stock"), "error: --entity: unknown sync 'stock'"),
        (("sync", "status", "--business", "acme"), "error: --business: unknown business"),
    ]:
        result = ops(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith(message), (args, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, args
