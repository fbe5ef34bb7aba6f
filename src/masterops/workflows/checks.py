"""Offline checks of library workflows beyond their structure (``library.check_workflow``):
what would only fail once deployed or run on n8n 1.123.x.

- every node type and ``typeVersion`` exists in the n8n the platform pins (``catalogue``);
- placeholders are ones deploy fills (``{{PLATFORM_URL}}``);
- an HTTP Request to the platform calls a route it has, with the platform credential;
- an expression reading a platform answer (``$json.x`` after such a node, or
  ``$('Node').item.json.x``) names a field that answer has (``platform_api.ROUTES``);
- ``settings.errorWorkflow`` names a library workflow that starts with an Error Trigger.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from masterops.workflows.catalogue import N8N_VERSION, NODE_VERSIONS
from masterops.workflows.library import JSON, Problem, WorkflowDefinition
from masterops.workflows.platform import (
    CREDENTIAL_NAME,
    HTTP_REQUEST_TYPE,
    PLACEHOLDER_PATTERN,
    PLACEHOLDERS,
    PLATFORM_URL,
    error_workflow_name,
    uses_platform_credential,
)
from masterops.workflows.platform_api import (
    ROUTES,
    SIGNED_ROUTES,
    Shape,
    full_response,
    missing_field,
    platform_paths,
    route_of,
)

ERROR_TRIGGER_TYPE = "n8n-nodes-base.errorTrigger"
# Nodes that hand on the items they receive: ``$json`` after them is what came before.
PASS_THROUGH = frozenset(
    {
        "n8n-nodes-base.wait",
        "n8n-nodes-base.if",
        "n8n-nodes-base.filter",
        "n8n-nodes-base.switch",
        "n8n-nodes-base.noOp",
        "n8n-nodes-base.limit",
    }
)

_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_PATH = r"((?:\.[A-Za-z_$][\w$]*|\[\s*\d+\s*\]|\[\s*'[^']*'\s*\]|\[\s*\"[^\"]*\"\s*\])*)"
_JSON_REF = re.compile(r"(?<![\w$.])\$json" + _PATH)
_NODE_REF = re.compile(
    r"\$\(\s*(['\"])(.+?)\1\s*\)\s*\.\s*(?:item|first\(\s*\)|last\(\s*\))\s*\.json" + _PATH
)
_SEGMENT = re.compile(r"\.([A-Za-z_$][\w$]*)|\[\s*(\d+)\s*\]|\[\s*['\"]([^'\"]*)['\"]\s*\]")


def check_library(
    definitions: Sequence[WorkflowDefinition], library: Sequence[WorkflowDefinition] = ()
) -> list[Problem]:
    """Every problem in ``definitions``; ``library`` (default: the same) is what an
    ``errorWorkflow`` may name."""
    everything = {d.name: d for d in (library or definitions)}
    everything.update({d.name: d for d in definitions})
    problems: list[Problem] = []
    for d in definitions:
        problems += [Problem(d.path, text) for text in check_definition(d, everything)]
    return problems


def check_definition(
    definition: WorkflowDefinition, library: Mapping[str, WorkflowDefinition]
) -> list[str]:
    problems: list[str] = []
    by_name = {n["name"]: n for n in definition.nodes}
    for node in definition.nodes:
        where = f'node "{node["name"]}"'
        problems += [f"{where}: {p}" for p in _node_type_problems(node)]
        problems += [f"{where}: {p}" for p in _placeholder_problems(node.get("parameters", {}))]
        problems += [f"{where}: {p}" for p in _platform_call_problems(node)]
        problems += [
            f"{where}: {p}" for p in _expression_problems(node, definition.connections, by_name)
        ]
    problems += _error_workflow_problems(definition, library)
    return problems


# -- node types ---------------------------------------------------------------------------


def _node_type_problems(node: JSON) -> list[str]:
    kind = node.get("type")
    if not isinstance(kind, str):
        return []
    versions = NODE_VERSIONS.get(kind)
    if versions is None:
        return [f"type {kind!r} does not exist in n8n {N8N_VERSION}"]
    version = node.get("typeVersion", 1)
    if isinstance(version, bool) or not isinstance(version, int | float):
        return [f'"typeVersion" must be a number, got {version!r}']
    if float(version) not in versions:
        known = ", ".join(f"{v:g}" for v in versions)
        return [f"{kind} has no typeVersion {version:g} in n8n {N8N_VERSION} (it has {known})"]
    return []


# -- placeholders and platform calls -------------------------------------------------------


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _placeholder_problems(parameters: Any) -> list[str]:
    found = {m for s in _strings(parameters) for m in PLACEHOLDER_PATTERN.findall(s)}
    known = ", ".join(sorted(PLACEHOLDERS))
    return [
        f"unknown placeholder {p} (deploy fills only {known})" for p in sorted(found - PLACEHOLDERS)
    ]


def _platform_route(node: JSON) -> tuple[str, str] | None:
    """The platform route an HTTP Request node calls, if it calls the platform."""
    if node.get("type") != HTTP_REQUEST_TYPE:
        return None
    params = node.get("parameters") or {}
    url = params.get("url")
    if not isinstance(url, str) or PLATFORM_URL not in url:
        return None
    return route_of(str(params.get("method") or "GET"), url, PLATFORM_URL)


def _platform_call_problems(node: JSON) -> list[str]:
    if node.get("type") != HTTP_REQUEST_TYPE:
        return []
    params = node.get("parameters") or {}
    url = params.get("url")
    if not isinstance(url, str) or PLATFORM_URL not in url:
        return []
    problems = []
    if not url.removeprefix("=").startswith(PLATFORM_URL):
        problems.append(f"the URL must start with {PLATFORM_URL}, got {url!r}")
    elif _platform_route(node) is None:
        method = str(params.get("method") or "GET").upper()
        path = url.removeprefix("=").removeprefix(PLATFORM_URL)
        problems.append(
            f"calls {method} {path}, which is not a platform route a workflow may call "
            f"({'; '.join(platform_paths())})"
        )
    if _platform_route(node) in SIGNED_ROUTES:
        return problems  # signed with the business's secret: no token
    if not (
        uses_platform_credential(node)
        and params.get("authentication") == "genericCredentialType"
        and params.get("genericAuthType") == "httpHeaderAuth"
    ):
        problems.append(
            "calls the platform without its token: set authentication to "
            '"genericCredentialType", genericAuthType "httpHeaderAuth" and credentials '
            f'{{"httpHeaderAuth": {{"name": "{CREDENTIAL_NAME}"}}}}'
        )
    return problems


# -- expressions ---------------------------------------------------------------------------


def _segments(text: str) -> list[str]:
    out = []
    for name, index, quoted in _SEGMENT.findall(text):
        out.append("[]" if index else (name or quoted))
    return out


def _expressions(node: JSON) -> Iterator[str]:
    for text in _strings(node.get("parameters", {})):
        if text.startswith("="):
            for match in _EXPRESSION.finditer(text):
                yield match.group(1)


def _predecessors(connections: JSON, target: str) -> list[str]:
    found = []
    for source, outputs in connections.items():
        for branches in (outputs or {}).values():
            for branch in branches or []:
                for edge in branch or []:
                    if isinstance(edge, dict) and edge.get("node") == target:
                        found.append(source)
    return list(dict.fromkeys(found))


def _producers(connections: JSON, by_name: Mapping[str, JSON], target: str) -> list[str]:
    """The nodes whose output ``$json`` is in ``target``, looking through pass-throughs."""
    seen: set[str] = set()
    producers: list[str] = []
    stack = _predecessors(connections, target)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        node = by_name.get(name)
        if node is not None and node.get("type") in PASS_THROUGH:
            stack.extend(_predecessors(connections, name))
        else:
            producers.append(name)
    return producers


def _shapes(names: Iterable[str], by_name: Mapping[str, JSON]) -> list[tuple[str, Shape]] | None:
    """The platform answer shape of each named node; None if any is not a platform call."""
    shapes = []
    for name in names:
        node = by_name.get(name)
        route = _platform_route(node) if node is not None else None
        if route is None:
            return None
        shape = ROUTES[route]
        if _includes_status(node):
            shape = full_response(shape)
        shapes.append((f"{route[0]} {route[1]}", shape))
    return shapes


def _includes_status(node: JSON | None) -> bool:
    """True when an HTTP Request node answers ``{body, headers, statusCode}``."""
    options = ((node or {}).get("parameters") or {}).get("options") or {}
    response = (options.get("response") or {}).get("response") or {}
    return response.get("fullResponse") is True


def _expression_problems(node: JSON, connections: JSON, by_name: Mapping[str, JSON]) -> list[str]:
    problems: list[str] = []
    producers: list[tuple[str, Shape]] | None = None
    producers_known = False
    for expression in _expressions(node):
        for match in _JSON_REF.finditer(expression):
            if not producers_known:
                names = _producers(connections, by_name, node["name"])
                producers = _shapes(names, by_name) if names else None
                producers_known = True
            for route, shape in producers or []:
                missing = missing_field(shape, _segments(match.group(1)))
                if missing is not None:
                    problems.append(
                        f"$json.{missing} is not in the answer of {route} (an expression "
                        "naming it would read undefined)"
                    )
        for match in _NODE_REF.finditer(expression):
            ref = match.group(2)
            if ref not in by_name:
                problems.append(f"$('{ref}') names no node of this workflow")
                continue
            shapes = _shapes([ref], by_name)
            for route, shape in shapes or []:
                missing = missing_field(shape, _segments(match.group(3)))
                if missing is not None:
                    problems.append(
                        f"$('{ref}') ... .json.{missing} is not in the answer of {route}"
                    )
    return list(dict.fromkeys(problems))


# -- the error workflow --------------------------------------------------------------------


def _error_workflow_problems(
    definition: WorkflowDefinition, library: Mapping[str, WorkflowDefinition]
) -> list[str]:
    name = error_workflow_name(definition)
    if name is None:
        return []
    target = library.get(name)
    if target is None:
        return [
            f"settings.errorWorkflow names {name!r}, which no library workflow is "
            "(name the error workflow by its name; deploy puts its id)"
        ]
    if not any(n.get("type") == ERROR_TRIGGER_TYPE for n in target.nodes):
        return [f"settings.errorWorkflow names {name!r}, which has no Error Trigger node"]
    return []
