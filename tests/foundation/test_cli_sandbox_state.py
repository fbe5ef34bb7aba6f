"""On the embedded default, what one ``ops`` command did to the sandbox is there for the
next: the state lives in the state folder until ``ops sandbox reset``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from masterops_sandbox.persist import SandboxState
from masterops_sandbox.server import Sandbox

REPORT = "RHF \u2013 Daily sales report"


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _state_folder() -> Path:
    return Path.cwd() / ".masterops" / "sandbox"  # the ops fixture runs in tmp_path


def test_a_command_sees_what_the_demo_did_to_the_sandbox(ops) -> None:  # type: ignore[no-untyped-def]
    demo = _json(ops("demo", "--json"))
    assert demo["mode"] == f"sandbox (state in {_state_folder()})"
    # The orders' contacts are the ones the demo pushed: the full resync links to them.
    orders = ops("sync", "orders", "--business", "teelixir", "--full", "--json")
    assert orders.exit_code == 0, orders.stderr
    [row] = json.loads(orders.stdout)["results"]
    assert row["status"] == "succeeded" and row["failed"] == 0
    # And HubSpot holds the contacts the demo pushed.
    [report] = _json(ops("test", "hubspot", "--business", "teelixir", "--json"))
    listed = next(s for s in report["steps"] if s["name"] == "list contacts")
    assert int(listed["summary"].split()[0]) > 0, listed
    config = _json(ops("config", "show", "--json"))
    assert config["mode"] == f"sandbox (state in {_state_folder()})"


def test_demo_exits_1_when_a_sync_fails(ops) -> None:  # type: ignore[no-untyped-def]
    # Teelixir's HubSpot token loses the right to write contacts, in the saved state.
    box = Sandbox()
    state = SandboxState(_state_folder(), box)
    state.open()
    state.begin()
    box.hubspot_api.remove_scopes("teelixir", "crm.objects.contacts.write")
    state.end("hubspot", changed=True)
    state.close()

    result = ops("demo", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)  # the report is still printed in full
    failed = [r for r in report["sync"] if r["status"] == "failed"]
    assert {(r["sync"], r["business"]) for r in failed} >= {("customers", "teelixir")}
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: demo: the sync failed for customers teelixir")
    assert "Traceback" not in result.stderr


def test_sandbox_reset_starts_over(ops) -> None:  # type: ignore[no-untyped-def]
    assert _json(ops("workflows", "activate", REPORT, "--json"))["active"] is True
    rows = {r["name"]: r for r in _json(ops("workflows", "list", "--json"))}
    assert rows[REPORT]["active"]  # remembered by the next command

    unconfirmed = ops("sandbox", "reset")  # not a terminal: no prompt, no deletion
    assert unconfirmed.exit_code == 2
    assert unconfirmed.stderr.strip().startswith(
        "error: not confirmed and no terminal to ask on: pass --yes"
    )
    assert (_state_folder() / "n8n.json").exists()

    done = ops("sandbox", "reset", "--yes")
    assert done.exit_code == 0 and "the next command starts from the seed" in done.stdout
    assert not (_state_folder() / "n8n.json").exists()
    rows = {r["name"]: r for r in _json(ops("workflows", "list", "--json"))}
    assert not rows[REPORT]["active"]  # seeded afresh
