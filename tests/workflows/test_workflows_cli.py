"""``ops workflows ...`` end to end through the real CLI: on the in-process sandbox (its
state kept in the state folder between calls) and on a sandbox served on loopback."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from workflows_helpers import LIBRARY

from masterops.integrations.n8n import N8nConnector
from masterops.workflows import PlatformAccess, deploy, load_library

BROKEN = "RHF \u2013 legacy price import"
ORDERS = "Teelixir \u2013 order to HubSpot"
HOOK = "Master-Ops health monitor"
NOTIFIER = "Master-Ops error notifier"
URL = "http://platform.test:8123"
PLATFORM = ("--platform-url", URL)


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _one_error_line(result: Any) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


# -- list, failures, activate, deactivate (in-process sandbox) ----------------------------


def test_list_with_filters(ops) -> None:  # type: ignore[no-untyped-def]
    rows = _json(ops("workflows", "list", "--json"))
    assert len(rows) == 18 and set(rows[0]) == {"id", "name", "active", "tags", "updated"}
    inactive = _json(ops("workflows", "list", "--inactive", "--json"))
    assert inactive and not any(r["active"] for r in inactive)
    active = _json(ops("workflows", "list", "--active", "--json"))
    assert len(active) + len(inactive) == 18
    tagged = _json(ops("workflows", "list", "--tag", "rhf", "--tag", "orders", "--json"))
    assert [r["name"] for r in tagged] == ["RHF \u2013 order to HubSpot"]
    named = _json(ops("workflows", "list", "--name", "daily sales", "--json"))
    assert len(named) == 4
    table = ops("workflows", "list", "--name", "legacy")
    assert table.exit_code == 0 and BROKEN in table.stdout and "inventory, rhf" in table.stdout
    assert "no workflows match" in ops("workflows", "list", "--name", "zzz").stdout


def test_failures_show_node_message_and_rates(ops) -> None:  # type: ignore[no-untyped-def]
    data = _json(ops("workflows", "failures", "--since", "7d", "--json"))
    broken = [f for f in data["failures"] if f["workflow"] == BROKEN]
    assert broken and broken[0]["node"] == "Parse price file"
    assert "Price file format changed: missing column unit_price" in broken[0]["error"]
    nodes = {f["node"] for f in data["failures"]}
    assert {"Fetch stock (Unleashed)", "Create deal"} <= nodes
    rates = {r["workflow"]: r for r in data["workflows"]}
    assert rates[BROKEN]["success_rate"] == 0.0 and rates[BROKEN]["failed"] >= 1
    assert all(r["runs"] >= r["succeeded"] + r["failed"] for r in data["workflows"])

    one = _json(ops("workflows", "failures", "--since", "7d", "--workflow", BROKEN, "--json"))
    assert {f["workflow"] for f in one["failures"]} == {BROKEN}
    assert [r["workflow"] for r in one["workflows"]] == [BROKEN]

    table = ops("workflows", "failures", "--since", "7d", "--workflow", BROKEN)
    assert table.exit_code == 0
    assert "Parse price file" in table.stdout and "Success rate per workflow" in table.stdout


def test_failures_bad_input(ops) -> None:  # type: ignore[no-untyped-def]
    bad = ops("workflows", "failures", "--since", "yesterday")
    assert bad.exit_code == 2 and "--since" in _one_error_line(bad)
    unknown = ops("workflows", "failures", "--workflow", "nope")
    assert unknown.exit_code == 1
    assert _one_error_line(unknown) == "error: no workflow with id or name 'nope'"


def test_activate_and_deactivate_by_name_and_id(ops) -> None:  # type: ignore[no-untyped-def]
    rows = {r["name"]: r for r in _json(ops("workflows", "list", "--json"))}
    report = "RHF \u2013 Daily sales report"
    assert not rows[report]["active"]
    done = _json(ops("workflows", "activate", report, "--json"))
    assert done == {"id": rows[report]["id"], "name": report, "active": True, "was_active": False}
    off = _json(ops("workflows", "deactivate", rows[ORDERS]["id"], "--json"))
    assert off["name"] == ORDERS and off["active"] is False and off["was_active"] is True
    # The embedded sandbox remembers the activation: this call really deactivates.
    text = ops("workflows", "deactivate", report)
    assert text.exit_code == 0 and "is inactive\n" in text.stdout
    again = ops("workflows", "deactivate", report)
    assert again.exit_code == 0 and "is inactive (it already was)" in again.stdout


def test_activate_bad_input(ops) -> None:  # type: ignore[no-untyped-def]
    unknown = ops("workflows", "activate", "No such workflow")
    assert unknown.exit_code == 1
    assert _one_error_line(unknown) == "error: no workflow with id or name 'No such workflow'"
    # The error handler has only an Error Trigger: n8n refuses, and says why.
    refused = ops("workflows", "activate", "Master-Ops \u2013 error handler")
    assert refused.exit_code == 1
    line = _one_error_line(refused)
    assert line.startswith("error: n8n refused to activate 'Master-Ops \u2013 error handler'")
    assert "has no node to start the workflow" in line
    assert ops("workflows", "list", "--business", "acme").exit_code == 2


def test_deploy_then_diff_on_the_embedded_sandbox(ops, library: Path) -> None:  # type: ignore[no-untyped-def]
    lib = str(library)
    created = _json(ops("workflows", "deploy", lib, *PLATFORM, "--json"))
    assert {r["status"] for r in created} == {"created"}
    assert "created the n8n credential 'Master-Ops platform'" in created[0]["note"]
    # The next command sees the deployed workflows: in sync, nothing "only local".
    diff = ops("workflows", "diff", lib, *PLATFORM)
    assert diff.exit_code == 0, diff.stdout + diff.stderr
    assert "only local" not in diff.stdout and f"{HOOK}: in sync" in diff.stdout
    # The token n8n holds is a real operate token of this platform.
    tokens = _json(ops("tokens", "list", "--json"))
    assert [(t["scope"], t["name"].startswith("n8n workflows")) for t in tokens] == [
        ("operate", True)
    ]


# -- deploy and diff (served sandbox: state survives between calls) -----------------------


def test_deploy_then_unchanged_then_updated_then_in_sync(  # type: ignore[no-untyped-def]
    ops, served_n8n, library: Path
) -> None:
    lib = str(library)
    dry = _json(ops("workflows", "deploy", lib, *PLATFORM, "--dry-run", "--json"))
    assert {r["status"] for r in dry} == {"created"} and all(r["dry_run"] for r in dry)
    assert _json(ops("workflows", "list", "--tag", "masterops", "--json")) == []

    before = ops("workflows", "diff", lib, *PLATFORM)
    assert before.exit_code == 1 and f"{HOOK}: only local" in before.stdout
    assert _one_error_line(before) == "error: 8 of 8 workflow(s) differ from n8n"

    first = _json(ops("workflows", "deploy", lib, *PLATFORM, "--json"))
    assert {r["status"] for r in first} == {"created"}
    second = ops("workflows", "deploy", lib, *PLATFORM)
    assert second.exit_code == 0 and second.stdout.count("unchanged") == 8
    assert ops("workflows", "diff", lib, *PLATFORM).exit_code == 0
    assert len(served_n8n.n8n_api.credentials) == 1

    path = library / "monitoring" / "health-monitor.json"
    data = json.loads(path.read_text())
    data["nodes"][2]["parameters"]["url"] += "?v=2"
    data["settings"]["saveManualExecutions"] = True
    path.write_text(json.dumps(data))
    changed = ops("workflows", "diff", lib, *PLATFORM, "--json")
    assert changed.exit_code == 1
    diffs = {d["name"]: d for d in json.loads(changed.stdout)}
    assert diffs[HOOK]["status"] == "changed"
    assert diffs[HOOK]["changes"] == [
        f'node "Run a health round": parameters.url: server "{URL}/api/v1/health/rounds" -> '
        f'local "{URL}/api/v1/health/rounds?v=2"',
        "settings.saveManualExecutions: only local (true)",
    ]
    updated = {
        r["name"]: r
        for r in _json(ops("workflows", "deploy", lib, *PLATFORM, "--activate", "--json"))
    }
    assert updated[HOOK]["status"] == "updated" and updated[HOOK]["active"] is True
    assert updated[NOTIFIER]["note"].startswith("not activated")
    clean = ops("workflows", "diff", lib, *PLATFORM)
    assert clean.exit_code == 0 and f"{HOOK}: in sync" in clean.stdout

    # A workflow removed from the library is reported, as ours, on the server only.
    path.unlink()
    assert ops("workflows", "diff", lib, *PLATFORM).exit_code == 0
    gone = ops("workflows", "diff", lib, *PLATFORM, "--orphans")
    assert gone.exit_code == 1 and f"{HOOK}: only on server" in gone.stdout
    everything = ops("workflows", "diff", lib, *PLATFORM, "--all", "--json")
    names = {d["name"] for d in json.loads(everything.stdout) if d["status"] == "only on server"}
    assert len(names) == 19 and HOOK in names  # the 18 seeded ones too


def test_deploy_refused_activation_is_one_line(  # type: ignore[no-untyped-def]
    ops, served_n8n, library: Path
) -> None:
    path = library / "monitoring" / "health-monitor.json"
    data = json.loads(path.read_text())
    data["nodes"][1]["parameters"]["path"] = "teelixir/order-created"  # taken by the seed
    path.write_text(json.dumps(data))
    notifier = library / "monitoring" / "error-notifier.json"
    result = ops("workflows", "deploy", str(path), str(notifier), *PLATFORM, "--activate")
    assert result.exit_code == 1
    assert "The URL path that the" in result.stdout
    assert _one_error_line(result) == f"error: 1 workflow(s) failed to deploy: '{HOOK}'"
    # Saved, inactive; activating it by name gives n8n's own reason.
    refused = ops("workflows", "activate", HOOK)
    assert refused.exit_code == 1
    line = _one_error_line(refused)
    assert line.startswith(f"error: n8n refused to activate '{HOOK}'")
    assert 'The URL path that the "Run now" node uses is already taken' in line


async def test_deploy_without_the_error_workflow_on_n8n_says_so(
    n8n: N8nConnector, library: Path
) -> None:
    [monitor] = load_library([library / "monitoring" / "health-monitor.json"])
    [row] = await deploy(n8n, [monitor], platform=PlatformAccess(URL, lambda: "token"))
    assert row.status == "failed"
    assert row.error == (
        "settings.errorWorkflow names 'Master-Ops error notifier', which is not on n8n "
        "(deploy it too: it is deployed first)"
    )


def test_deploy_an_invalid_library_deploys_nothing(  # type: ignore[no-untyped-def]
    ops, served_n8n, library: Path, tmp_path: Path
) -> None:
    (library / "orders" / "bad.json").write_text("{ nope")
    hook = library / "monitoring" / "health-monitor.json"
    data = json.loads(hook.read_text())
    del data["nodes"][1]["webhookId"]
    hook.write_text(json.dumps(data))
    result = ops("workflows", "deploy", str(library), *PLATFORM)
    assert result.exit_code == 2
    assert "error: 2 problem(s) in the workflow library:" in result.stderr
    assert f"{library / 'orders' / 'bad.json'}: bad JSON at line 1" in result.stderr
    assert f'{hook}: node "Run now" is a Webhook without a "webhookId"' in result.stderr
    assert _json(ops("workflows", "list", "--tag", "masterops", "--json")) == []

    as_json = ops("workflows", "diff", str(library), "--json")
    assert as_json.exit_code == 2
    assert len(json.loads(as_json.stdout)["problems"]) == 2

    missing = ops("workflows", "deploy", str(tmp_path / "nowhere"))
    assert missing.exit_code == 2 and "no such file or folder" in missing.stderr


def test_paths_are_found_in_the_library_folder_from_anywhere(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # The ops fixture runs in tmp_path: no infra/n8n-workflows there, so the checkout's.
    rows = _json(ops("workflows", "deploy", *PLATFORM, "--dry-run", "--json"))
    assert len(rows) == 8 and {r["status"] for r in rows} == {"created"}
    # orders/ comes with the error workflow it names (deployed first).
    notifier, intake, orders = _json(
        ops("workflows", "deploy", "orders/", *PLATFORM, "--dry-run", "--json")
    )
    assert notifier["name"] == NOTIFIER and orders["name"] == "Master-Ops orders sync"
    assert intake["name"] == "Master-Ops order intake"
    # No business has an order webhook secret here: deployed, it refuses every order.
    assert "no business has an order webhook secret" in intake["note"]
    assert orders["path"] == str(LIBRARY / "orders" / "orders-sync.json")
    # A library in the current folder wins over the checkout's.
    shutil.copytree(LIBRARY, tmp_path / "infra" / "n8n-workflows")
    (tmp_path / "infra" / "n8n-workflows" / "reporting" / "data-export.json").unlink()
    rows = _json(ops("workflows", "deploy", *PLATFORM, "--dry-run", "--json"))
    assert len(rows) == 7
    diffs = ops("workflows", "diff", *PLATFORM, "--json")
    assert diffs.exit_code == 1
    assert {d["status"] for d in json.loads(diffs.stdout)} == {"only local"}


def test_deploy_signs_the_order_intake_with_the_platforms_secrets(  # type: ignore[no-untyped-def]
    ops, served_n8n, monkeypatch
) -> None:
    # The secret the platform's order receiver checks is the one n8n signs with; the
    # command binds it into the intake workflow on n8n and prints it nowhere.
    secret = "teelixir-order-secret-}}-42"
    monkeypatch.setenv("MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET", secret)
    deployed = ops("workflows", "deploy", "orders/", *PLATFORM, "--json")
    rows = _json(deployed)
    [intake] = [r for r in rows if r["name"] == "Master-Ops order intake"]
    assert intake["status"] == "created" and "order webhook secret" not in (intake["note"] or "")
    [live] = [w for w in served_n8n.n8n_api.workflows() if w["name"] == intake["name"]]
    nodes = {n["name"]: n for n in live["nodes"]}
    assert (
        '"teelixir":"teelixir-order-secret-\\u007d\\u007d-42"'
        in (nodes["Sign the order"]["parameters"]["secret"])
    )
    assert '["teelixir"]' in nodes["Check the order"]["parameters"]["jsCode"]
    monkeypatch.setenv("MASTEROPS_TEELIXIR_ORDER_WEBHOOK_SECRET", secret + "-rotated")
    diff = ops("workflows", "diff", "orders/", *PLATFORM)
    assert diff.exit_code == 1 and "Master-Ops order intake: changed" in diff.stdout
    exported = ops("workflows", "export", "Master-Ops order intake", "--to", "-")
    assert exported.exit_code == 0, exported.stderr
    for result in (deployed, diff, exported):
        assert "teelixir-order-secret" not in result.stdout + result.stderr
    assert "{{ORDER_WEBHOOK_SECRETS}}" in exported.stdout
