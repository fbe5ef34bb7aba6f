"""``ops workflows validate``: the offline checks beyond structure, each failure named with
its file and node, and every shipped file passing them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from workflows_helpers import LIBRARY

from masterops.workflows import load_library
from masterops.workflows.catalogue import N8N_VERSION, NODE_VERSIONS
from masterops.workflows.checks import check_library


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "library"
    shutil.copytree(LIBRARY, target, ignore=shutil.ignore_patterns("*.md", "tools"))
    return target


def _edit(path: Path, change: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _node(data: dict[str, Any], name: str) -> dict[str, Any]:
    [node] = [n for n in data["nodes"] if n["name"] == name]
    return node


def _problems(library: Path) -> list[str]:
    definitions = load_library([library])
    return [str(p) for p in check_library(definitions)]


def test_every_shipped_workflow_passes_the_offline_checks() -> None:
    definitions = load_library([LIBRARY])
    assert len(definitions) == 8
    assert check_library(definitions) == []


def test_the_catalogue_holds_what_the_library_uses() -> None:
    # A sanity floor for the generated list: the nodes the library needs, at the versions
    # n8n 1.123.81 has (checked on the installed n8n-nodes-base).
    assert N8N_VERSION == "1.123.81"
    assert NODE_VERSIONS["n8n-nodes-base.httpRequest"] == (1, 2, 3, 4, 4.1, 4.2, 4.3)
    assert NODE_VERSIONS["n8n-nodes-base.webhook"] == (1, 1.1, 2, 2.1)
    assert 4.4 not in NODE_VERSIONS["n8n-nodes-base.httpRequest"]
    assert len(NODE_VERSIONS) > 400


def test_each_kind_of_failure_is_named_with_its_file_and_node(tmp_path: Path) -> None:
    library = _copy(tmp_path)
    sync = library / "sync" / "inventory-sync.json"
    report = library / "reporting" / "daily-report.json"
    health = library / "monitoring" / "health-monitor.json"
    export = library / "reporting" / "data-export.json"

    def break_sync(data: dict[str, Any]) -> None:
        _node(data, "Wait for the job")["typeVersion"] = 3
        _node(data, "Outcome")["type"] = "n8n-nodes-base.sett"
        _node(data, "Finished?")["parameters"]["conditions"]["conditions"][0]["leftValue"] = (
            "={{ $json.state }}"
        )

    def break_report(data: dict[str, Any]) -> None:
        # A field the delivery's answer does not have (it is "sent").
        _node(data, "Outcome")["parameters"]["assignments"]["assignments"][0]["value"] = (
            "={{ $json.delivered }}"
        )
        data["settings"]["errorWorkflow"] = "Master-Ops health monitor"

    def break_health(data: dict[str, Any]) -> None:
        call = _node(data, "Run a health round")
        del call["credentials"]
        call["parameters"]["url"] = "{{PLATFORM_ROOT}}/api/v1/health/rounds"

    def break_export(data: dict[str, Any]) -> None:
        _node(data, "Outcome")["parameters"]["assignments"]["assignments"][0]["value"] = (
            "={{ $('Export in the platform').item.json.filename }}"
        )
        data["settings"]["errorWorkflow"] = "Nobody"

    customers = library / "sync" / "customers-sync.json"
    _edit(
        customers,
        lambda d: _node(d, "Read the job")["parameters"].update(
            url="={{PLATFORM_URL}}/api/v1/job/x"
        ),
    )
    _edit(sync, break_sync)
    _edit(report, break_report)
    _edit(health, break_health)
    _edit(export, break_export)
    problems = _problems(library)
    assert problems == [
        f'{health}: node "Run a health round": unknown placeholder {{{{PLATFORM_ROOT}}}} '
        "(deploy fills only {{ORDER_WEBHOOK_BUSINESSES}}, {{ORDER_WEBHOOK_SECRETS}}, "
        "{{PLATFORM_URL}})",
        f'{report}: node "Outcome": $json.delivered is not in the answer of '
        "POST /api/v1/reports/daily/deliveries (an expression naming it would read undefined)",
        f"{report}: settings.errorWorkflow names 'Master-Ops health monitor', which has no "
        "Error Trigger node",
        f"{export}: node \"Outcome\": $('Export in the platform') ... .json.filename is not "
        "in the answer of POST /api/v1/exports",
        f"{export}: settings.errorWorkflow names 'Nobody', which no library workflow is (name "
        "the error workflow by its name; deploy puts its id)",
        f'{customers}: node "Read the job": calls GET /api/v1/job/x, which is not a platform route '
        "a workflow may call (GET /api/v1/jobs/{id}; GET /api/v1/reports/daily; "
        "POST /api/v1/exports; POST /api/v1/health/rounds; POST /api/v1/jobs/sync; "
        "POST /api/v1/reports/daily/deliveries; POST /api/v1/workflow-errors; "
        "POST /webhooks/orders/{id})",
        f'{sync}: node "Wait for the job": n8n-nodes-base.wait has no typeVersion 3 in n8n '
        f"{N8N_VERSION} (it has 1, 1.1)",
        f'{sync}: node "Finished?": $json.state is not in the answer of GET /api/v1/jobs/{{id}} '
        "(an expression naming it would read undefined)",
        f"{sync}: node \"Outcome\": type 'n8n-nodes-base.sett' does not exist in n8n {N8N_VERSION}",
    ]


def test_a_platform_call_without_the_token_is_refused(tmp_path: Path) -> None:
    library = _copy(tmp_path)
    health = library / "monitoring" / "health-monitor.json"
    _edit(health, lambda d: _node(d, "Run a health round").update(credentials={}))
    [problem] = _problems(library)
    assert problem.startswith(
        f'{health}: node "Run a health round": calls the platform without its token'
    )


def test_validate_command_exit_codes(ops, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok = ops("workflows", "validate", "--json")
    assert ok.exit_code == 0, ok.stderr
    body = json.loads(ok.stdout)
    assert body["n8n"] == N8N_VERSION and len(body["valid"]) == 8 and body["problems"] == []
    one = ops("workflows", "validate", "sync/inventory-sync.json", "--json")
    assert [r["workflow"] for r in json.loads(one.stdout)["valid"]] == ["Master-Ops inventory sync"]

    library = _copy(tmp_path)
    sync = library / "sync" / "inventory-sync.json"
    _edit(sync, lambda d: _node(d, "Outcome").update(typeVersion=9))
    bad = ops("workflows", "validate", str(library))
    assert bad.exit_code == 2
    assert bad.stderr.splitlines()[:2] == [
        "error: 1 problem(s) in the workflow library:",
        f'  {sync}: node "Outcome": n8n-nodes-base.set has no typeVersion 9 in n8n '
        f"{N8N_VERSION} (it has 1, 2, 3, 3.1, 3.2, 3.3, 3.4)",
    ]
    # deploy checks the same, before it reaches n8n.
    refused = ops("workflows", "deploy", str(library), "--platform-url", "http://x.test")
    assert refused.exit_code == 2 and "has no typeVersion 9" in refused.stderr


def test_show_summarises_a_library_workflow(ops) -> None:  # type: ignore[no-untyped-def]
    shown = ops("workflows", "show", "Master-Ops orders sync", "--json")
    assert shown.exit_code == 0, shown.stderr
    summary = json.loads(shown.stdout)
    assert summary["triggers"] == [
        "schedule every 15 min",
        "webhook POST /webhook/masterops/sync/orders",
    ]
    assert summary["calls"] == ["POST /api/v1/jobs/sync", "GET /api/v1/jobs/{{ $json.job_id }}"]
    assert summary["credential"] == "Master-Ops platform"
    assert summary["error_workflow"] == "Master-Ops error notifier"
    assert summary["signed_with"] is None
    intake = json.loads(ops("workflows", "show", "order-intake.json", "--json").stdout)
    assert intake["triggers"] == ["webhook POST /webhook/masterops/orders/intake"]
    assert intake["calls"] == ["POST /webhooks/orders/{{ $json.business }}"]
    assert intake["credential"] is None
    assert "order webhook secret" in intake["signed_with"]
    text = ops("workflows", "show", "error-notifier.json")
    assert (
        text.exit_code == 0 and "when a workflow naming it as error workflow fails" in text.stdout
    )
    missing = ops("workflows", "show", "Nope")
    assert missing.exit_code == 2
    assert "no library workflow named 'Nope' (the library has: Master-Ops customers" in (
        missing.stderr
    )


@pytest.mark.parametrize("url", ["ftp://x", "http://x/api/v1", "not a url"])
def test_a_bad_platform_url_is_one_line(ops, url: str) -> None:  # type: ignore[no-untyped-def]
    result = ops("workflows", "deploy", "--platform-url", url, "--dry-run")
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: --platform-url: platform URL ")
