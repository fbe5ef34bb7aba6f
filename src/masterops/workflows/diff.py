"""Local definition vs the workflow on the server: a structural, readable diff.

Only what the library controls is compared. Fields the server owns or changes on every
save (``id``, ``versionId``, ``createdAt``, ``updatedAt``, node ids) are ignored; so are
settings the server fills in with its defaults and node credentials the file does not
name (an operator attaches credentials in n8n's editor, and that is not drift). Node
positions are compared unless ``ignore_positions`` (moving a node is cosmetic to some).
Nodes are matched by name, connections compared as sets of edges.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from masterops.integrations.n8n import Node, Workflow
from masterops.workflows.library import MANAGED_TAG, WorkflowDefinition
from masterops.workflows.platform import mask_value

Status = Literal["in sync", "changed", "only local", "only on server"]

# What n8n adds to every saved workflow's settings when they are not given.
SERVER_DEFAULT_SETTINGS: Mapping[str, Any] = {
    "callerPolicy": "workflowsFromSameOwner",
    "availableInMCP": False,
}
# Node fields n8n writes itself.
_SERVER_NODE_FIELDS = frozenset({"id", "createdAt", "updatedAt"})

Edge = tuple[str, str, int, str, str, int]  # source, output type, output index, target, type, input


@dataclass
class WorkflowDiff:
    """How one workflow differs. ``changes`` are one-line sentences; ``content_changed``
    is True when nodes, connections or settings differ (a tag alone needs no PUT)."""

    name: str
    status: Status
    workflow_id: str | None = None
    path: str | None = None
    changes: list[str] = field(default_factory=list)
    content_changed: bool = False
    missing_tags: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "workflow_id": self.workflow_id,
            "path": self.path,
            "changes": self.changes,
        }


def compare(
    local: WorkflowDefinition, server: Workflow | None, *, ignore_positions: bool = False
) -> WorkflowDiff:
    """The diff of one definition against its server copy (None: not deployed)."""
    if server is None:
        return WorkflowDiff(local.name, "only local", path=str(local.path))
    content = [
        *_node_changes(local.nodes, server.nodes, ignore_positions=ignore_positions),
        *_connection_changes(local.connections, server.connections),
        *_settings_changes(local.settings, server.settings),
    ]
    have = set(server.tag_names)
    missing = [t for t in local.wanted_tags if t not in have]
    changes = [*content]
    if missing:
        changes.append("tags missing on the server: " + ", ".join(missing))
    return WorkflowDiff(
        local.name,
        "changed" if changes else "in sync",
        workflow_id=server.id,
        path=str(local.path),
        changes=changes,
        content_changed=bool(content),
        missing_tags=missing,
    )


def diff_library(
    definitions: Iterable[WorkflowDefinition],
    server_workflows: Iterable[Workflow],
    *,
    ignore_positions: bool = False,
    orphans: bool = True,
    all_server: bool = False,
) -> list[WorkflowDiff]:
    """One diff per definition, then one per server workflow no definition names.

    With ``orphans``, server workflows carrying ``MANAGED_TAG`` (deployed from the
    library, since removed from it) count as "only on server"; with ``all_server`` every
    unmatched one does: an n8n shared with hand-made workflows is not drift by default.
    Turn ``orphans`` off when ``definitions`` are only part of the library.
    """
    by_name: dict[str, Workflow] = {}
    for wf in server_workflows:
        by_name.setdefault(wf.name, wf)
    local = list(definitions)
    out = [compare(d, by_name.get(d.name), ignore_positions=ignore_positions) for d in local]
    local_names = {d.name for d in local}
    for name, wf in sorted(by_name.items()):
        if name in local_names:
            continue
        if all_server or (orphans and MANAGED_TAG in wf.tag_names):
            out.append(WorkflowDiff(name, "only on server", workflow_id=wf.id))
    return out


# -- nodes -------------------------------------------------------------------------------


def normalise_node(node: Mapping[str, Any] | Node) -> dict[str, Any]:
    """A node as the API would store it (camelCase, defaults filled, no server fields), so
    a file that leaves out ``position`` or writes ``typeVersion: 2.0`` compares equal."""
    model = node if isinstance(node, Node) else Node.model_validate(dict(node))
    data = model.to_api()
    for key in _SERVER_NODE_FIELDS:
        data.pop(key, None)
    return data


def _node_changes(
    local_nodes: list[dict[str, Any]], server_nodes: list[Node], *, ignore_positions: bool
) -> list[str]:
    local = {n["name"]: normalise_node(n) for n in local_nodes}
    server = {n.name: normalise_node(n) for n in server_nodes}
    changes = [f'node "{name}": only local' for name in local if name not in server]
    changes += [f'node "{name}": only on server' for name in server if name not in local]
    for name, mine in local.items():
        theirs = server.get(name)
        if theirs is None:
            continue
        keys = set(mine) | set(theirs)
        if ignore_positions:
            keys.discard("position")
        if "credentials" not in mine:
            keys.discard("credentials")  # attached in n8n's editor: not drift
        for key in sorted(keys):
            changes += [
                f'node "{name}": {line}'
                for line in _value_changes(key, mine.get(key), theirs.get(key))
            ]
    return changes


def _value_changes(path: str, local: Any, server: Any) -> list[str]:
    """Leaf-level differences under ``path`` (dicts walked key by key)."""
    if isinstance(local, dict) and isinstance(server, dict):
        out: list[str] = []
        for key in sorted(set(local) | set(server), key=str):
            if key not in server:
                out.append(f"{path}.{key}: only local ({_short(local[key])})")
            elif key not in local:
                out.append(f"{path}.{key}: only on server ({_short(server[key])})")
            else:
                out += _value_changes(f"{path}.{key}", local[key], server[key])
        return out
    if local == server:
        return []
    if local is None:
        return [f"{path}: only on server ({_short(server)})"]
    if server is None:
        return [f"{path}: only local ({_short(local)})"]
    return [f"{path}: server {_short(server)} -> local {_short(local)}"]


def _short(value: Any, limit: int = 60) -> str:
    # A bound order intake holds the businesses' secrets: a diff line never shows them.
    text = json.dumps(mask_value(value), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- connections and settings -------------------------------------------------------------


def connection_edges(connections: Mapping[str, Any]) -> set[Edge]:
    """Every edge of a connections object; empty branches (n8n writes ``[[]]`` for an
    unconnected output) add nothing, so they never show as a difference."""
    edges: set[Edge] = set()
    for source, outputs in connections.items():
        if not isinstance(outputs, dict):
            continue
        for kind, branches in outputs.items():
            for index, branch in enumerate(branches or []):
                for target in branch or []:
                    if isinstance(target, dict):
                        edges.add(
                            (
                                str(source),
                                str(kind),
                                index,
                                str(target.get("node")),
                                str(target.get("type", kind)),
                                int(target.get("index", 0)),
                            )
                        )
    return edges


def _describe_edge(edge: Edge) -> str:
    source, kind, output, target, target_kind, target_index = edge
    where = (
        ""
        if (kind, output, target_kind, target_index) == ("main", 0, "main", 0)
        else (f" ({kind}[{output}] -> {target_kind}[{target_index}])")
    )
    return f'"{source}" -> "{target}"{where}'


def _connection_changes(local: Mapping[str, Any], server: Mapping[str, Any]) -> list[str]:
    mine, theirs = connection_edges(local), connection_edges(server)
    return [f"connection {_describe_edge(e)}: only local" for e in sorted(mine - theirs)] + [
        f"connection {_describe_edge(e)}: only on server" for e in sorted(theirs - mine)
    ]


def _settings_changes(local: Mapping[str, Any], server: Mapping[str, Any]) -> list[str]:
    theirs = {
        k: v
        for k, v in server.items()
        if k in local or SERVER_DEFAULT_SETTINGS.get(k, _MISSING) != v
    }
    return _value_changes("settings", dict(local), theirs)


_MISSING = object()
