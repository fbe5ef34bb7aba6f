"""``ops workflows export``: a workflow edited in n8n pulled back into the library, without
what belongs to one server, so the next deploy finds nothing to change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from workflows_helpers import LIBRARY

from masterops.integrations.n8n import N8nConnector
from masterops.workflows import PlatformAccess, bound_for_diff, deploy, diff_library, load_library
from masterops.workflows.export import library_document, render_document
from masterops.workflows.remote import all_workflows, find_workflow

URL = "http://platform.test:8123"
PLATFORM = PlatformAccess(URL, lambda: "mo_token")
STOCK = "Master-Ops inventory sync"


def _comparable(document: dict[str, Any]) -> dict[str, Any]:
    """A file's content with tag order and number spelling (2 vs 2.0) set aside."""
    data: dict[str, Any] = json.loads(json.dumps(document))
    data["tags"] = sorted(data.get("tags", []))
    return data


async def _exported(n8n: N8nConnector, name: str) -> dict[str, Any]:
    server = await all_workflows(n8n)
    full = await n8n.get_workflow((await find_workflow(n8n, name)).id)
    return library_document(full, {wf.id: wf.name for wf in server})


async def test_exporting_a_deployed_workflow_gives_back_its_file(
    n8n: N8nConnector, library: Path
) -> None:
    await deploy(n8n, load_library([library]), platform=PLATFORM)
    for definition in load_library([library]):
        exported = await _exported(n8n, definition.name)
        on_disk = json.loads(definition.path.read_text(encoding="utf-8"))
        assert _comparable(exported) == _comparable(on_disk), definition.path
        # Nothing of this server is in it.
        text = render_document(exported)
        assert URL not in text and "versionId" not in text and "createdAt" not in text
        assert not [n for n in exported["nodes"] if "id" in n]


async def test_an_edit_made_in_n8n_comes_back_and_redeploys_as_unchanged(
    n8n: N8nConnector, library: Path
) -> None:
    await deploy(n8n, load_library([library]), platform=PLATFORM)
    live = await find_workflow(n8n, STOCK)
    nodes = [n.to_api() for n in live.nodes]
    nodes[0]["parameters"]["rule"]["interval"][0]["minutesInterval"] = 20
    nodes[4]["parameters"]["url"] = nodes[4]["parameters"]["url"] + "?verbose=1"
    await n8n.update_workflow(live.id, nodes=nodes)

    path = library / "sync" / "inventory-sync.json"
    path.write_text(render_document(await _exported(n8n, STOCK)), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["nodes"][0]["parameters"]["rule"]["interval"][0]["minutesInterval"] == 20
    assert data["nodes"][4]["parameters"]["url"] == (
        "={{PLATFORM_URL}}/api/v1/jobs/{{ $json.job_id }}?verbose=1"
    )
    assert data["settings"]["errorWorkflow"] == "Master-Ops error notifier"  # a name, not an id
    assert data["nodes"][2]["credentials"] == {"httpHeaderAuth": {"name": "Master-Ops platform"}}

    again = {
        r.name: r.status for r in await deploy(n8n, load_library([library]), platform=PLATFORM)
    }
    assert set(again.values()) == {"unchanged"}
    server = await all_workflows(n8n)
    diffs = diff_library(bound_for_diff(load_library([library]), server, URL), server)
    assert {d.status for d in diffs} == {"in sync"}


def test_export_command_writes_the_library_file(  # type: ignore[no-untyped-def]
    ops, served_n8n, tmp_path: Path
) -> None:
    # A library in the current folder (the ops fixture runs in tmp_path).
    library = tmp_path / "infra" / "n8n-workflows"
    shutil.copytree(LIBRARY, library, ignore=shutil.ignore_patterns("*.md", "tools"))
    deployed = ops("workflows", "deploy", "--platform-url", URL)
    assert deployed.exit_code == 0, deployed.stderr
    path = library / "reporting" / "daily-report.json"
    before = json.loads(path.read_text(encoding="utf-8"))
    moved = json.loads(json.dumps(before))
    moved["nodes"][0]["position"] = [5, 5]  # a local edit the export overwrites
    path.write_text(json.dumps(moved), encoding="utf-8")

    written = ops("workflows", "export", "Master-Ops daily report", "--json")
    assert written.exit_code == 0, written.stderr
    assert json.loads(written.stdout) == {"name": "Master-Ops daily report", "path": str(path)}
    assert _comparable(json.loads(path.read_text(encoding="utf-8"))) == _comparable(before)

    printed = ops("workflows", "export", "Master-Ops daily report", "--to", "-")
    assert printed.exit_code == 0 and _comparable(json.loads(printed.stdout)) == _comparable(before)
    elsewhere = tmp_path / "out" / "report.json"
    assert (
        ops("workflows", "export", "Master-Ops daily report", "--to", str(elsewhere)).exit_code == 0
    )
    assert _comparable(json.loads(elsewhere.read_text(encoding="utf-8"))) == _comparable(before)

    # A hand-made workflow no file defines goes to a new file at the library's root.
    seeded = ops("workflows", "export", "RHF \u2013 legacy price import", "--json")
    assert seeded.exit_code == 0, seeded.stderr
    assert json.loads(seeded.stdout)["path"] == str(library / "rhf-legacy-price-import.json")

    missing = ops("workflows", "export", "Nope")
    assert missing.exit_code == 1
    assert [ln for ln in missing.stderr.splitlines() if ln.startswith("error:")] == [
        "error: no workflow with id or name 'Nope'"
    ]
