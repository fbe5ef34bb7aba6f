"""Loading and checking the local workflow library: every problem named with its file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from workflows_helpers import LIBRARY

from masterops.workflows import LibraryError, load_library
from masterops.workflows.library import WEBHOOK_TYPE, activatable


def _write(folder: Path, name: str, data: Any) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _workflow(name: str = "Example", **overrides: Any) -> dict[str, Any]:
    wf: dict[str, Any] = {
        "name": name,
        "nodes": [
            {"name": "Every hour", "type": "n8n-nodes-base.scheduleTrigger", "parameters": {}},
            {"name": "Call", "type": "n8n-nodes-base.httpRequest", "parameters": {"url": "x"}},
        ],
        "connections": {"Every hour": {"main": [[{"node": "Call", "type": "main", "index": 0}]]}},
    }
    wf.update(overrides)
    return wf


def _problems(*paths: Path) -> list[str]:
    with pytest.raises(LibraryError) as info:
        load_library(paths)
    return [str(p) for p in info.value.problems]


def test_the_shipped_library_is_valid() -> None:
    definitions = load_library([LIBRARY])
    by_file = {d.path.relative_to(LIBRARY).as_posix(): d for d in definitions}
    assert set(by_file) == {
        "monitoring/error-notifier.json",
        "monitoring/health-monitor.json",
        "orders/order-intake.json",
        "orders/orders-sync.json",
        "reporting/daily-report.json",
        "reporting/data-export.json",
        "sync/customers-sync.json",
        "sync/inventory-sync.json",
    }
    # Every workflow but the error workflow and the order intake (a shop's webhook) runs
    # on a schedule and on a webhook (a manual run: n8n's public API has no "run now").
    for name, d in by_file.items():
        types = [n["type"] for n in d.nodes]
        if name == "monitoring/error-notifier.json":
            assert types[0] == "n8n-nodes-base.errorTrigger" and not activatable(d)
            assert "errorWorkflow" not in d.settings
            continue
        scheduled = name != "orders/order-intake.json"
        assert ("n8n-nodes-base.scheduleTrigger" in types) is scheduled, name
        assert WEBHOOK_TYPE in types, name
        [hook] = [n for n in d.nodes if n["type"] == WEBHOOK_TYPE]
        assert hook["webhookId"] and hook["parameters"]["path"].startswith("masterops/")
        assert d.settings["errorWorkflow"] == "Master-Ops error notifier"
        assert activatable(d)
    # No sync is re-implemented in n8n: the only Code nodes check and answer an order
    # in the intake, and every HTTP call is the platform's.
    for d in definitions:
        for node in d.nodes:
            if node["type"] == "n8n-nodes-base.code":
                assert d.name == "Master-Ops order intake", d.name
            if node["type"] == "n8n-nodes-base.httpRequest":
                assert node["parameters"]["url"].removeprefix("=").startswith("{{PLATFORM_URL}}")
    sync = by_file["sync/inventory-sync.json"]
    assert sync.wanted_tags == ["sync", "inventory", "masterops"]


def test_defaults_and_export_fields(tmp_path: Path) -> None:
    exported = _workflow(
        id="abc", active=True, versionId="v1", tags=[{"id": "t1", "name": "crm"}], pinData={}
    )
    path = _write(tmp_path, "export.json", exported)
    [definition] = load_library([path])
    assert definition.settings == {"executionOrder": "v1"}
    assert definition.tags == ["crm"]


def test_bad_json_names_the_file_and_place(tmp_path: Path) -> None:
    path = _write(tmp_path, "broken.json", '{"name": "x",\n  "nodes": [,]}')
    [problem] = _problems(path)
    assert problem.startswith(f"{path}: bad JSON at line 2 column")


def test_missing_fields_are_all_listed(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.json", {"settings": {}})
    assert _problems(path) == [
        f'{path}: missing "name"',
        f'{path}: missing "nodes"',
        f'{path}: missing "connections"',
    ]


def test_connection_to_a_missing_node(tmp_path: Path) -> None:
    wf = _workflow()
    wf["connections"]["Call"] = {"main": [[{"node": "Nowhere", "type": "main", "index": 0}]]}
    wf["connections"]["Ghost"] = {"main": [[{"node": "Call", "type": "main", "index": 0}]]}
    path = _write(tmp_path, "wf.json", wf)
    assert _problems(path) == [
        f'{path}: connections: "Call" connects to "Nowhere", which is not a node',
        f'{path}: connections: from "Ghost", which is not a node',
    ]


def test_webhook_without_webhook_id_or_path(tmp_path: Path) -> None:
    wf = _workflow(
        nodes=[{"name": "Hook", "type": WEBHOOK_TYPE, "parameters": {"httpMethod": "POST"}}],
        connections={},
    )
    path = _write(tmp_path, "hook.json", wf)
    problems = _problems(path)
    assert len(problems) == 2
    assert problems[0].startswith(f'{path}: node "Hook" is a Webhook without a "webhookId"')
    assert problems[1] == f'{path}: node "Hook" is a Webhook without a "path" parameter'


def test_fields_n8n_would_refuse(tmp_path: Path) -> None:
    wf = _workflow(settings={"executionOrder": "v1", "colour": "red"})
    wf["nodes"][1]["label"] = "extra"
    wf["nodes"].append(dict(wf["nodes"][0]))  # a duplicate name
    path = _write(tmp_path, "wf.json", wf)
    assert _problems(path) == [
        f'{path}: node "Call": n8n does not accept the field "label"',
        f'{path}: node "Every hour" is defined twice (node names must be unique)',
        f'{path}: settings: n8n does not accept "colour"',
    ]


def test_every_file_problem_is_collected(tmp_path: Path) -> None:
    _write(tmp_path, "a/one.json", _workflow("Same"))
    _write(tmp_path, "b/two.json", _workflow("Same"))
    _write(tmp_path, "c/list.json", [_workflow("Listed")])
    _write(tmp_path, "d/bad.json", "not json")
    hook = {
        "name": "Hook",
        "type": WEBHOOK_TYPE,
        "webhookId": "6f1c2a9e-0000-4000-8000-000000000001",
        "parameters": {"path": "/shared/path", "httpMethod": "POST"},
    }
    _write(tmp_path, "e/h1.json", _workflow("H1", nodes=[hook], connections={}))
    _write(tmp_path, "e/h2.json", _workflow("H2", nodes=[hook], connections={}))
    problems = _problems(tmp_path, tmp_path / "missing")
    assert problems == [
        f"{tmp_path / 'missing'}: no such file or folder",
        f"{tmp_path / 'c/list.json'}: expected one workflow object, found an array",
        f"{tmp_path / 'd/bad.json'}: bad JSON at line 1 column 1: Expecting value",
        f'{tmp_path / "b/two.json"}: the name "Same" is also used by {tmp_path / "a/one.json"}',
        f'{tmp_path / "e/h2.json"}: webhook POST "shared/path" is also used by '
        f"{tmp_path / 'e/h1.json'}",
    ]


def test_an_empty_folder_is_a_problem(tmp_path: Path) -> None:
    assert _problems(tmp_path) == [f"{tmp_path}: no workflow definitions (*.json) in this folder"]
