"""Constants the workflow tests share (a module of its own: importing ``conftest`` by name
is ambiguous when several test folders have one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The shipped library, infra/n8n-workflows.
LIBRARY = Path(__file__).resolve().parents[2] / "infra" / "n8n-workflows"


def unique_names(definitions: list[Any], token: str) -> list[Any]:
    """The definitions renamed "<name> [mo-test-<token>]", with their webhook paths (and
    ids) and error-workflow references to match: a shared real n8n keeps other runs'
    workflows apart, and cleanup finds ours by name."""
    import uuid

    renamed = {d.name: f"{d.name} [mo-test-{token}]" for d in definitions}
    for d in definitions:
        d.name = renamed[d.name]
        if d.settings.get("errorWorkflow") in renamed:
            d.settings["errorWorkflow"] = renamed[d.settings["errorWorkflow"]]
        for node in d.nodes:
            if node["type"] == "n8n-nodes-base.webhook":
                node["webhookId"] = str(uuid.uuid4())
                node["parameters"]["path"] = f"mo-test-{token}/{node['parameters']['path']}"
    return definitions
