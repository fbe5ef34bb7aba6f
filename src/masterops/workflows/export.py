"""A workflow on n8n back into the library: what ``ops workflows export`` writes.

What belongs to one server goes (workflow and node ids, ``versionId``, timestamps,
``active``, the settings n8n fills in with its defaults, the ``masterops`` tag); what
deploy bound goes back to the names a file uses (``platform.unbind``). Exporting a
workflow just deployed gives back its file, bar key order and formatting.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from masterops.integrations.n8n import Workflow
from masterops.workflows.diff import SERVER_DEFAULT_SETTINGS
from masterops.workflows.library import (
    JSON,
    MANAGED_TAG,
    NODE_FIELDS,
    SETTINGS_FIELDS,
)
from masterops.workflows.platform import unbind

_SERVER_NODE_FIELDS = frozenset({"id"})


def library_document(workflow: Workflow, names_by_id: Mapping[str, str]) -> JSON:
    """The library file's content for ``workflow``; ``names_by_id`` resolves
    ``settings.errorWorkflow`` back to a name."""
    nodes = []
    for node in workflow.nodes:
        data = node.to_api()
        nodes.append(
            {k: v for k, v in data.items() if k in NODE_FIELDS and k not in _SERVER_NODE_FIELDS}
        )
    settings = {
        k: v
        for k, v in workflow.settings.items()
        if k in SETTINGS_FIELDS and SERVER_DEFAULT_SETTINGS.get(k, object()) != v
    }
    nodes, settings = unbind(nodes, settings, names_by_id)
    document: JSON = {
        "name": workflow.name,
        "nodes": nodes,
        "connections": workflow.connections,
        "settings": settings,
    }
    tags = [t for t in workflow.tag_names if t != MANAGED_TAG]
    if tags:
        document["tags"] = tags
    return document


def render_document(document: Mapping[str, Any]) -> str:
    """The file text: two-space JSON, as the library's files are written."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def new_file_name(name: str, library: Path) -> Path:
    """Where a workflow no file defines yet goes: a slug of its name at the library root."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return library / f"{slug or 'workflow'}.json"
