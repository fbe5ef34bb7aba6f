"""The local workflow library: n8n workflow JSON files, one workflow per file.

``load_library(paths)`` reads every ``*.json`` under the given files and folders and checks
each definition before anything talks to n8n, so a broken library deploys nothing. Every
problem names its file; all of them are collected, not just the first, because an
operator fixing a library wants the whole list at once.

What is checked is what the real server would refuse (or silently mishandle): the four
fields it needs, node fields and settings its schema rejects, connections to nodes that
do not exist, and Webhook nodes without a ``webhookId`` (n8n then registers them under an
internal path and ``/webhook/<path>`` stays 404).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = dict[str, Any]

DEFAULT_SETTINGS: Mapping[str, Any] = {"executionOrder": "v1"}
WEBHOOK_TYPE = "n8n-nodes-base.webhook"
#: Tag every deployed workflow carries, so ``diff`` can tell ours from hand-made ones.
MANAGED_TAG = "masterops"

# The node and settings fields n8n 1.x's public API schema accepts; anything else is a 400.
NODE_FIELDS = frozenset(
    {
        "id",
        "name",
        "webhookId",
        "disabled",
        "notesInFlow",
        "notes",
        "type",
        "typeVersion",
        "executeOnce",
        "alwaysOutputData",
        "retryOnFail",
        "maxTries",
        "waitBetweenTries",
        "continueOnFail",
        "onError",
        "position",
        "parameters",
        "credentials",
    }
)
SETTINGS_FIELDS = frozenset(
    {
        "saveExecutionProgress",
        "saveManualExecutions",
        "saveDataErrorExecution",
        "saveDataSuccessExecution",
        "executionTimeout",
        "errorWorkflow",
        "timezone",
        "executionOrder",
        "callerPolicy",
        "callerIds",
        "timeSavedPerExecution",
        "availableInMCP",
    }
)


#: The library's place in a checkout, relative to the repository root.
LIBRARY_FOLDER = Path("infra/n8n-workflows")


def default_library(cwd: Path | None = None) -> Path:
    """The library folder: ``infra/n8n-workflows`` under the current folder when there is
    one, else the one in the checkout this package runs from."""
    here = (cwd or Path.cwd()) / LIBRARY_FOLDER
    if here.is_dir():
        return here
    # src/masterops/workflows/library.py -> the repository root is three folders up.
    checkout = Path(__file__).resolve().parents[3] / LIBRARY_FOLDER
    return checkout if checkout.is_dir() else here


def resolve_paths(paths: Iterable[Path], library: Path) -> list[Path]:
    """Each path as given when it exists, else relative to the library folder when it
    exists there (``ops workflows deploy orders/`` from anywhere), else as given (the
    loader then says it is missing)."""
    resolved = []
    for path in paths:
        if not path.exists() and not path.is_absolute() and (library / path).exists():
            path = library / path
        resolved.append(path)
    return resolved


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class LibraryError(Exception):
    """The library cannot be deployed; ``problems`` lists every reason, each with its file."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{count} problem(s) in the workflow library:\n{lines}")


@dataclass
class WorkflowDefinition:
    """One workflow as the library defines it: what ``deploy`` sends and ``diff`` compares.

    ``tags`` are the tag names the file asks for; ``MANAGED_TAG`` is added on deploy."""

    path: Path
    name: str
    nodes: list[JSON]
    connections: JSON
    settings: JSON = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    tags: list[str] = field(default_factory=list)

    @property
    def wanted_tags(self) -> list[str]:
        return list(dict.fromkeys([*self.tags, MANAGED_TAG]))


def definition_files(paths: Iterable[Path]) -> tuple[list[Path], list[Problem]]:
    """Every ``*.json`` file named or under a named folder (sorted), and missing paths."""
    files: list[Path] = []
    problems: list[Problem] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not found:
                problems.append(Problem(path, "no workflow definitions (*.json) in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(path, "no such file or folder"))
    # A file named twice (a folder and a file in it) is one definition.
    return list(dict.fromkeys(files)), problems


def load_library(paths: Iterable[Path]) -> list[WorkflowDefinition]:
    """Every definition under ``paths``, checked; ``LibraryError`` lists all problems."""
    files, problems = definition_files(paths)
    definitions: list[WorkflowDefinition] = []
    for path in files:
        definition, found = load_definition(path)
        problems.extend(found)
        if definition is not None:
            definitions.append(definition)
    problems.extend(_library_clashes(definitions))
    if problems:
        raise LibraryError(problems)
    return definitions


def load_definition(path: Path) -> tuple[WorkflowDefinition | None, list[Problem]]:
    """One file: its definition (None when unusable) and what is wrong with it."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return None, [Problem(path, f"bad JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Problem(path, f"cannot read: {exc}")]
    if isinstance(raw, list):
        # `n8n export:workflow --all` without --separate writes an array.
        return None, [Problem(path, "expected one workflow object, found an array")]
    if not isinstance(raw, dict):
        return None, [Problem(path, f"expected a workflow object, found {type(raw).__name__}")]
    problems = [Problem(path, text) for text in check_workflow(raw)]
    if problems:
        return None, problems
    settings = raw.get("settings")
    return (
        WorkflowDefinition(
            path=path,
            name=raw["name"].strip(),
            nodes=[dict(n) for n in raw["nodes"]],
            connections=dict(raw["connections"]),
            settings=dict(DEFAULT_SETTINGS) if settings is None else dict(settings),
            tags=_tag_names(raw.get("tags")) or [],
        ),
        [],
    )


def check_workflow(raw: Mapping[str, Any]) -> list[str]:
    """Every problem with one workflow object, as sentences (no file name)."""
    problems: list[str] = []
    name = raw.get("name")
    if "name" not in raw:
        problems.append('missing "name"')
    elif not isinstance(name, str) or not name.strip():
        problems.append('"name" must be a non-empty string')
    nodes = raw.get("nodes")
    node_names: set[str] = set()
    if "nodes" not in raw:
        problems.append('missing "nodes"')
    elif not isinstance(nodes, list):
        problems.append('"nodes" must be a list')
    else:
        node_names = _check_nodes(nodes, problems)
    if "connections" not in raw:
        problems.append('missing "connections"')
    elif not isinstance(raw["connections"], dict):
        problems.append('"connections" must be an object')
    elif isinstance(nodes, list):
        problems.extend(check_connections(raw["connections"], node_names))
    settings = raw.get("settings")
    if settings is not None:
        if not isinstance(settings, dict):
            problems.append('"settings" must be an object')
        else:
            for key in sorted(set(settings) - SETTINGS_FIELDS):
                problems.append(f'settings: n8n does not accept "{key}"')
    if "tags" in raw and _tag_names(raw["tags"]) is None:
        problems.append('"tags" must be a list of names (or of {"name": ...} objects)')
    return problems


def _check_nodes(nodes: list[Any], problems: list[str]) -> set[str]:
    names: set[str] = set()
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            problems.append(f"node {index + 1} is not an object")
            continue
        label = node.get("name")
        if not isinstance(label, str) or not label:
            problems.append(f'node {index + 1} has no "name"')
            continue
        where = f'node "{label}"'
        if label in names:
            problems.append(f"{where} is defined twice (node names must be unique)")
        names.add(label)
        if not isinstance(node.get("type"), str) or not node["type"]:
            problems.append(f'{where} has no "type"')
        if "parameters" in node and not isinstance(node["parameters"], dict):
            problems.append(f'{where}: "parameters" must be an object')
        position = node.get("position")
        if position is not None and not (
            isinstance(position, list)
            and len(position) == 2
            and all(_is_number(v) for v in position)
        ):
            problems.append(f'{where}: "position" must be [x, y]')
        for key in sorted(set(node) - NODE_FIELDS):
            problems.append(f'{where}: n8n does not accept the field "{key}"')
        if node.get("type") == WEBHOOK_TYPE:
            webhook_id = node.get("webhookId")
            if not isinstance(webhook_id, str) or not webhook_id.strip():
                problems.append(
                    f'{where} is a Webhook without a "webhookId" (n8n would register it under '
                    "an internal path and /webhook/<path> would answer 404)"
                )
            if not webhook_path(node):
                problems.append(f'{where} is a Webhook without a "path" parameter')
    return names


def check_connections(connections: Mapping[str, Any], node_names: set[str]) -> list[str]:
    """Connections whose source or target is not a node of the workflow, or malformed."""
    problems: list[str] = []
    for source, outputs in connections.items():
        if source not in node_names:
            problems.append(f'connections: from "{source}", which is not a node')
        if not isinstance(outputs, dict):
            problems.append(f'connections of "{source}" must be an object')
            continue
        for kind, branches in outputs.items():
            if not isinstance(branches, list):
                problems.append(f'connections of "{source}" ({kind}) must be a list')
                continue
            for branch in branches:
                for target in branch or []:
                    target_name = target.get("node") if isinstance(target, dict) else None
                    if not isinstance(target_name, str):
                        problems.append(f'connections of "{source}": a target without "node"')
                    elif target_name not in node_names:
                        problems.append(
                            f'connections: "{source}" connects to "{target_name}", '
                            "which is not a node"
                        )
    return problems


def activatable(definition: WorkflowDefinition) -> bool:
    """Whether n8n can activate it: a trigger, poller or webhook that is not disabled.
    Error, manual and sub-workflow triggers do not count: such workflows run when called
    (an Error Trigger workflow when another workflow names it as ``errorWorkflow``)."""
    for node in definition.nodes:
        if node.get("disabled"):
            continue
        short = str(node.get("type", "")).rsplit(".", 1)[-1]
        if short in _CALLED_TRIGGERS:
            continue
        if short == "webhook" or short.endswith("Trigger") or short in _POLLERS:
            return True
    return False


_CALLED_TRIGGERS = frozenset({"manualTrigger", "errorTrigger", "executeWorkflowTrigger", "start"})
_POLLERS = frozenset({"cron", "interval"})


def webhook_path(node: Mapping[str, Any]) -> str:
    params = node.get("parameters")
    path = params.get("path") if isinstance(params, dict) else None
    return path.strip("/") if isinstance(path, str) else ""


def webhook_routes(node: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(METHOD, path) a Webhook node listens on (GET when no method is set, as in n8n)."""
    if node.get("type") != WEBHOOK_TYPE or node.get("disabled"):
        return []
    params = node.get("parameters")
    params = params if isinstance(params, dict) else {}
    methods = params.get("httpMethod") or "GET"
    method_list = methods if isinstance(methods, list) else [methods]
    path = webhook_path(node)
    return [(str(m).upper(), path) for m in method_list] if path else []


def _library_clashes(definitions: Sequence[WorkflowDefinition]) -> list[Problem]:
    """Names and webhook paths two files share: deploy matches by name, and n8n lets only
    one active workflow own a webhook path."""
    problems: list[Problem] = []
    names: dict[str, Path] = {}
    routes: dict[tuple[str, str], Path] = {}
    for d in definitions:
        first = names.setdefault(d.name, d.path)
        if first != d.path:
            problems.append(Problem(d.path, f'the name "{d.name}" is also used by {first}'))
        for node in d.nodes:
            for route in webhook_routes(node):
                owner = routes.setdefault(route, d.path)
                if owner != d.path:
                    method, path = route
                    problems.append(
                        Problem(d.path, f'webhook {method} "{path}" is also used by {owner}')
                    )
    return problems


def _tag_names(value: Any) -> list[str] | None:
    """Tag names from ``["a"]`` or an export's ``[{"name": "a", ...}]``; None if neither."""
    if value is None:
        return []
    if not isinstance(value, list):
        return None
    names: list[str] = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            return None
        names.append(name.strip())
    return names


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
