"""Deploy and diff against the n8n sandbox through the real connector: the library bound
to one installation (platform URL, the platform credential created once, the error
workflow's id), then idempotent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from workflows_helpers import LIBRARY

from masterops.integrations.n8n import N8nConnector, Workflow
from masterops.workflows import (
    MANAGED_TAG,
    PlatformAccess,
    bound_for_diff,
    compare,
    deploy,
    diff_library,
    load_library,
)
from masterops.workflows.library import WorkflowDefinition
from masterops.workflows.remote import all_workflows, find_workflow
from masterops_sandbox.n8n import N8nSandbox

STOCK = "Master-Ops inventory sync"
HOOK = "Master-Ops health monitor"
NOTIFIER = "Master-Ops error notifier"
PLATFORM_URL = "http://platform.test:8123"
TOKEN = "mo_token_for_n8n"
PLATFORM = PlatformAccess(PLATFORM_URL, lambda: TOKEN)


async def _diffs(n8n: N8nConnector, definitions: list[WorkflowDefinition]) -> list[Any]:
    server = await all_workflows(n8n)
    return diff_library(bound_for_diff(definitions, server, PLATFORM_URL), server)


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _by_name(results: list[Any]) -> dict[str, Any]:
    return {r.name: r for r in results}


async def test_deploy_creates_then_is_idempotent(
    n8n: N8nConnector, n8n_sandbox: tuple[N8nSandbox, Any], library: Path
) -> None:
    definitions = load_library([library])
    first = await deploy(n8n, definitions, platform=PLATFORM)
    assert {r.status for r in first} == {"created"}
    assert all(r.ok and r.workflow_id and r.active is False for r in first)
    assert first[0].name == NOTIFIER  # deployed first: the others name its id
    stock = await find_workflow(n8n, STOCK)
    notifier = await find_workflow(n8n, NOTIFIER)
    assert set(stock.tag_names) == {"sync", "inventory", MANAGED_TAG}
    assert stock.settings["errorWorkflow"] == notifier.id
    assert "errorWorkflow" not in notifier.settings

    # One credential, holding the token, used by every node that calls the platform.
    [(credential_id, credential)] = n8n_sandbox[0].credentials.items()
    assert credential["name"] == "Master-Ops platform"
    assert credential["data"] == {"name": "Authorization", "value": f"Bearer {TOKEN}"}
    calls = [n for wf in await all_workflows(n8n) for n in wf.nodes if n.credentials]
    assert len(calls) == 10  # two per sync, one in each of the other four
    for node in calls:
        assert node.credentials == {
            "httpHeaderAuth": {"id": credential_id, "name": "Master-Ops platform"}
        }
        assert node.parameters["url"].removeprefix("=").startswith(PLATFORM_URL + "/api/v1/")
    assert "created the n8n credential" in (first[0].note or "")

    second = await deploy(n8n, load_library([library]), platform=PLATFORM)
    assert {r.status for r in second} == {"unchanged"}
    assert len(n8n_sandbox[0].credentials) == 1  # found on the server, not created again
    again = await n8n.get_workflow(stock.id)
    assert again.version_id == stock.version_id  # nothing was written

    diffs = await _diffs(n8n, load_library([library]))
    assert {d.status for d in diffs} == {"in sync"}


async def test_without_a_platform_url_or_token_nothing_is_deployed_half_bound(
    n8n: N8nConnector, library: Path
) -> None:
    results = await deploy(n8n, load_library([library]))
    assert {r.status for r in results} == {"failed"}
    by_name = _by_name(results)
    assert by_name[STOCK].error == (
        "it calls the platform ({{PLATFORM_URL}}): give the platform's URL as n8n reaches "
        "it (--platform-url)"
    )
    results = await deploy(n8n, load_library([library]), platform=PlatformAccess(PLATFORM_URL))
    assert "no token was given to create it" in (_by_name(results)[STOCK].error or "")
    names = {d.name for d in load_library([library])}
    assert not [wf async for wf in n8n.list_workflows() if wf.name in names]


async def test_a_local_edit_updates_and_keeps_server_state(
    n8n: N8nConnector, library: Path
) -> None:
    await deploy(n8n, load_library([library]), platform=PLATFORM)
    before = await find_workflow(n8n, STOCK)
    node_ids = {n.name: n.id for n in before.nodes}
    # An operator attaches credentials in the editor and a tag by hand.
    nodes = [n.to_api() for n in before.nodes]
    nodes[-1]["credentials"] = {"httpHeaderAuth": {"id": "c1", "name": "HubSpot"}}
    await n8n.update_workflow(before.id, nodes=nodes)
    [crm] = [t async for t in n8n.list_tags() if t.name == "crm"]
    await n8n.set_tags(before.id, [*(t.id for t in before.tags), crm.id])
    assert {d.status for d in await _diffs(n8n, load_library([library]))} == {"in sync"}

    path = library / "sync" / "inventory-sync.json"
    _edit(
        path, lambda d: d["nodes"][0]["parameters"]["rule"]["interval"][0].update(minutesInterval=5)
    )
    results = _by_name(await deploy(n8n, load_library([library]), platform=PLATFORM))
    assert results[STOCK].status == "updated"
    assert results[STOCK].changes == (
        'node "Every 15 minutes": parameters.rule.interval: '
        'server [{"field": "minutes", "minutesInterval": 15}] -> '
        'local [{"field": "minutes", "minutesInterval": 5}]',
    )
    assert {r.status for r in results.values() if r.name != STOCK} == {"unchanged"}
    after = await n8n.get_workflow(before.id)
    assert {n.name: n.id for n in after.nodes} == node_ids
    assert after.nodes[-1].credentials == {"httpHeaderAuth": {"id": "c1", "name": "HubSpot"}}
    assert "crm" in after.tag_names
    diffs = await _diffs(n8n, load_library([library]))
    assert {d.status for d in diffs} == {"in sync"}


async def test_activate_and_dry_run(
    n8n: N8nConnector, n8n_sandbox: tuple[N8nSandbox, Any], library: Path
) -> None:
    definitions = load_library([library])
    planned = _by_name(
        await deploy(n8n, definitions, activate=True, dry_run=True, platform=PLATFORM)
    )
    assert planned[HOOK].status == "created" and planned[HOOK].active and planned[HOOK].dry_run
    assert planned[NOTIFIER].note is not None
    assert "would create the platform credential" in planned[NOTIFIER].note
    assert not [wf async for wf in n8n.list_workflows(tags=MANAGED_TAG)]  # nothing written
    assert not n8n_sandbox[0].credentials

    results = _by_name(await deploy(n8n, definitions, activate=True, platform=PLATFORM))
    assert results[HOOK].activated and results[HOOK].active
    notifier = results[NOTIFIER]
    assert notifier.ok and not notifier.active and "not activated" in (notifier.note or "")
    assert (await find_workflow(n8n, HOOK)).active
    # Activating what is active is not a change.
    again = _by_name(await deploy(n8n, definitions, activate=True, platform=PLATFORM))
    assert {r.status for r in again.values()} == {"unchanged"}
    assert not any(r.activated for r in again.values())


async def test_a_taken_webhook_path_is_refused_with_n8ns_message(
    n8n: N8nConnector, library: Path
) -> None:
    # The sandbox's Teelixir order workflow is active on this path already.
    path = library / "monitoring" / "health-monitor.json"
    _edit(path, lambda d: d["nodes"][1]["parameters"].update(path="teelixir/order-created"))
    notifier = library / "monitoring" / "error-notifier.json"
    results = _by_name(
        await deploy(n8n, load_library([path, notifier]), activate=True, platform=PLATFORM)
    )
    hook = results[HOOK]
    assert hook.status == "created" and hook.workflow_id and not hook.active
    assert hook.error is not None
    assert hook.error.startswith('saved but not activated: The URL path that the "Run now"')


def _server(definition: WorkflowDefinition, **changes: Any) -> Workflow:
    data = {
        "id": "w1",
        "name": definition.name,
        "nodes": [{**n, "id": f"id-{i}"} for i, n in enumerate(definition.nodes)],
        "connections": definition.connections,
        "settings": {**definition.settings, "callerPolicy": "workflowsFromSameOwner"},
        "tags": [{"id": f"t{i}", "name": t} for i, t in enumerate(definition.wanted_tags)],
        "versionId": "v9",
        "updatedAt": "2026-01-01T00:00:00Z",
    }
    data.update(changes)
    return Workflow.model_validate(json.loads(json.dumps(data)))


def test_diff_names_each_kind_of_change() -> None:
    [local] = [d for d in load_library([LIBRARY]) if d.name == HOOK]
    assert compare(local, _server(local)).status == "in sync"

    nodes = json.loads(json.dumps(local.nodes))
    nodes[2]["parameters"]["url"] = "https://example.com/rounds"
    nodes[1]["position"] = [999, 999]
    del nodes[2]["parameters"]["options"]
    server = _server(
        local,
        nodes=nodes,
        connections={"Run now": local.connections["Run now"]},
        settings={**local.settings, "executionOrder": "v0", "timezone": "Australia/Melbourne"},
        tags=[],
    )
    diff = compare(local, server)
    assert diff.status == "changed" and diff.content_changed
    assert diff.changes == EXPECTED_CHANGES
    quiet = compare(local, server, ignore_positions=True)
    assert not any("position" in c for c in quiet.changes)

    extra = [*json.loads(json.dumps(local.nodes)), {"name": "Debug", "type": "n8n-nodes-base.noOp"}]
    diff = compare(local, _server(local, nodes=extra))
    assert diff.changes == ['node "Debug": only on server']


EXPECTED_CHANGES = [
    'node "Run now": position: server [999.0, 999.0] -> local [0.0, 200.0]',
    'node "Run a health round": parameters.options: only local ({"timeout": 60000})',
    'node "Run a health round": parameters.url: server "https://example.com/rounds" -> '
    'local "{{PLATFORM_URL}}/api/v1/health/rounds"',
    'connection "Every 5 minutes" -> "Run a health round": only local',
    'connection "Run a health round" -> "Outcome": only local',
    'settings.executionOrder: server "v0" -> local "v1"',
    'settings.timezone: server "Australia/Melbourne" -> local "UTC"',
    "tags missing on the server: monitoring, masterops",
]


def test_diff_only_local_and_only_on_server() -> None:
    definitions = load_library([LIBRARY])
    ours = _server(
        definitions[0], id="w2", name="Master-Ops retired", tags=[{"id": "t", "name": MANAGED_TAG}]
    )
    theirs = _server(definitions[0], id="w3", name="Hand made", tags=[])
    diffs = diff_library(definitions, [ours, theirs])
    statuses = {d.name: d.status for d in diffs}
    assert statuses["Master-Ops retired"] == "only on server"
    assert "Hand made" not in statuses
    assert {statuses[d.name] for d in definitions} == {"only local"}
    everything = {
        d.name: d.status for d in diff_library(definitions, [ours, theirs], all_server=True)
    }
    assert everything["Hand made"] == "only on server"
