"""The order intake workflow's secrets: the businesses' order webhook secrets are bound at
deploy into the Crypto node that signs (and only the business names into the Code node
that checks), and they never come out again: not in an export, a diff line, a deploy
result, and never in a library file. The n8n sandbox stands in for n8n; the real n8n
runs the bound workflow in test_library_runs_on_real_n8n.py."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from masterops.integrations.n8n import N8nConnector
from masterops.workflows import PlatformAccess, bound_for_diff, deploy, diff_library, load_library
from masterops.workflows.export import library_document, render_document
from masterops.workflows.library import WorkflowDefinition
from masterops.workflows.platform import (
    ORDER_BUSINESSES,
    ORDER_SECRETS,
    Binding,
    BindingError,
    mask_secrets,
    render,
    secrets_literal,
)
from masterops.workflows.remote import all_workflows, find_workflow

URL = "http://platform.test:8123"
INTAKE = "Master-Ops order intake"
# Characters that would end an n8n expression or a JS string if they went in raw.
SECRETS = {"teelixir": 'tx-}}-{{-"quoted"-(paren)-\\', "elevate": "el-secret-2"}
PLATFORM = PlatformAccess(URL, lambda: "mo_token", SECRETS)


def _intake(library: Path) -> WorkflowDefinition:
    [definition] = [d for d in load_library([library]) if d.name == INTAKE]
    return definition


def _node(nodes: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [node] = [n for n in nodes if n["name"] == name]
    return node


def test_the_file_names_the_secrets_and_deploy_binds_them(library: Path) -> None:
    definition = _intake(library)
    text = definition.path.read_text(encoding="utf-8")
    assert ORDER_SECRETS in text and ORDER_BUSINESSES in text
    bound = render(definition, Binding(URL, None, {"Master-Ops error notifier": "e1"}, SECRETS))
    secret = _node(bound.nodes, "Sign the order")["parameters"]["secret"]
    assert secret.startswith("={{ ({") and "}}" not in secret[3:-2]
    code = _node(bound.nodes, "Check the order")["parameters"]["jsCode"]
    assert 'const BUSINESSES = /*ORDER_WEBHOOK_BUSINESSES*/["elevate","teelixir"];' in code
    assert all(s not in code for s in SECRETS.values())  # the checker gets names only
    assert mask_secrets(secret) == "={{ " + ORDER_SECRETS + "[$json.business] ?? '' }}"
    url = _node(bound.nodes, "Send it to the platform")["parameters"]["url"]
    assert url == "=" + URL + "/webhooks/orders/{{ $json.business }}"


def test_the_bound_literal_is_the_secrets_in_javascript() -> None:
    # What n8n's expression evaluates: the same strings, whatever they hold.
    literal = secrets_literal(SECRETS)
    out = subprocess.run(
        ["node", "-e", f"process.stdout.write(JSON.stringify({literal}))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 and "not found" in out.stderr:
        pytest.skip("node is not installed")
    assert json.loads(out.stdout) == SECRETS


def test_without_secrets_render_refuses_and_deploy_says_every_order_is_refused(
    library: Path,
) -> None:
    definition = _intake(library)
    binding = Binding(URL, None, {"Master-Ops error notifier": "e1"})
    with pytest.raises(BindingError, match="order webhook secrets"):
        render(definition, binding)
    empty = render(definition, Binding(URL, None, {"Master-Ops error notifier": "e1"}, {}))
    assert (
        "/*ORDER_WEBHOOK_BUSINESSES*/[]"
        in _node(empty.nodes, "Check the order")["parameters"]["jsCode"]
    )


async def test_export_diff_and_deploy_never_show_a_secret(n8n: N8nConnector, library: Path) -> None:
    results = await deploy(n8n, load_library([library]), platform=PLATFORM)
    assert all(r.ok for r in results), [(r.name, r.error) for r in results]
    live = await n8n.get_workflow((await find_workflow(n8n, INTAKE)).id)
    assert SECRETS["elevate"] in json.dumps([n.to_api() for n in live.nodes])  # bound

    # Exported, the workflow is its file again: placeholders, no secret.
    server = await all_workflows(n8n)
    exported = library_document(live, {wf.id: wf.name for wf in server})
    on_disk = json.loads(_intake(library).path.read_text(encoding="utf-8"))
    assert exported["nodes"] == on_disk["nodes"]
    text = render_document(exported)
    assert all(s not in text for s in SECRETS.values())

    # A second deploy with the same secrets changes nothing; new secrets update it, and
    # neither its result nor the diff before it shows them.
    again = await deploy(n8n, load_library([library]), platform=PLATFORM)
    assert {r.status for r in again} == {"unchanged"}
    rotated = {**SECRETS, "elevate": "el-rotated-3"}
    bound = bound_for_diff(load_library([library]), server, URL, rotated)
    [diff] = [d for d in diff_library(bound, server) if d.name == INTAKE]
    assert diff.status == "changed" and diff.changes
    shown = json.dumps(diff.to_dict())
    assert "el-rotated-3" not in shown and SECRETS["elevate"] not in shown
    assert ORDER_SECRETS in shown
    updated = await deploy(
        n8n, load_library([library]), platform=PlatformAccess(URL, lambda: "x", rotated)
    )
    [result] = [r for r in updated if r.name == INTAKE]
    assert result.status == "updated"
    assert "el-rotated-3" not in json.dumps(result.to_dict())
