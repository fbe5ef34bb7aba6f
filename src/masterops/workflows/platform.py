"""How library workflows reach the platform, and how deploy binds them to one installation.

A library file never holds an installation's details. It names them:

- ``{{PLATFORM_URL}}`` in any node parameter: the platform's base URL as n8n reaches it,
  substituted at deploy (``--platform-url``). Written without spaces, so it can never be
  mistaken for an n8n expression (``{{ $json.x }}``).
- ``"credentials": {"httpHeaderAuth": {"name": "Master-Ops platform"}}`` on every node
  that calls the platform: the n8n credential holding ``Authorization: Bearer <token>``.
  Deploy fills in its server id (creating the credential once when n8n has none).
- ``settings.errorWorkflow`` as a workflow's *name*: deploy puts the id n8n gave it.
- ``{{ORDER_WEBHOOK_SECRETS}}`` inside an n8n expression (the order intake's HMAC key) and
  ``{{ORDER_WEBHOOK_BUSINESSES}}`` in a Code node: the businesses whose order webhook
  secret (``MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET``) the platform has, as a JS object
  of slug -> secret and a JS array of slugs. n8n's Crypto node takes its HMAC key as a
  parameter, not from a credential, so the secret is put there at deploy and nowhere
  else: never in a library file, an export, a diff line or a deploy message.

``render`` does the substitution; ``unbind`` is its inverse, for ``ops workflows export``.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from masterops.workflows.library import JSON, WorkflowDefinition

PLATFORM_URL = "{{PLATFORM_URL}}"
ORDER_SECRETS = "{{ORDER_WEBHOOK_SECRETS}}"
ORDER_BUSINESSES = "{{ORDER_WEBHOOK_BUSINESSES}}"
PLACEHOLDERS = frozenset({PLATFORM_URL, ORDER_SECRETS, ORDER_BUSINESSES})
CREDENTIAL_TYPE = "httpHeaderAuth"
CREDENTIAL_NAME = "Master-Ops platform"
HTTP_REQUEST_TYPE = "n8n-nodes-base.httpRequest"
API_PREFIX = "/api/v1"
ORDERS_WEBHOOK_PATH = "/webhooks/orders/"

# Anything shaped like a placeholder: upper-case words in double braces, no spaces.
PLACEHOLDER_PATTERN = re.compile(r"\{\{[A-Z][A-Z0-9_]*\}\}")
# The bound secrets: a parenthesised object literal of string pairs, read with ``[...]``.
# Its strings hold no raw brace or parenthesis (``_js_string`` escapes them), so it ends
# at the first "})", and n8n's expression parser never sees a "}}" in a secret.
BOUND_SECRETS_PATTERN = re.compile(r'\(\{(?:"(?:[^"\\]|\\.)*":"(?:[^"\\]|\\.)*",?)*\}\)(?=\[)')
# The bound business list carries its placeholder's name as a JS comment, so export can
# put the placeholder back.
_BUSINESSES_MARK = "/*ORDER_WEBHOOK_BUSINESSES*/"
BOUND_BUSINESSES_PATTERN = re.compile(re.escape(_BUSINESSES_MARK) + r"\[[^\]]*\]")


class BindingError(ValueError):
    """A definition cannot be bound to this installation (the message says why)."""


@dataclass(frozen=True)
class Binding:
    """One installation: the platform URL n8n uses, the credential's id on n8n, and the
    ids of workflows by name (for ``settings.errorWorkflow``)."""

    platform_url: str | None
    credential_id: str | None = None
    workflow_ids: Mapping[str, str] | None = None
    #: Business slug -> order webhook secret (None: not known, e.g. a diff without one).
    order_secrets: Mapping[str, str] | None = None


def uses_platform_credential(node: Mapping[str, Any]) -> bool:
    creds = node.get("credentials")
    if not isinstance(creds, dict):
        return False
    entry = creds.get(CREDENTIAL_TYPE)
    return isinstance(entry, dict) and entry.get("name") == CREDENTIAL_NAME


def needs_credential(definitions: list[WorkflowDefinition]) -> bool:
    return any(uses_platform_credential(n) for d in definitions for n in d.nodes)


def signs_orders(definition: WorkflowDefinition) -> bool:
    """True when the workflow needs the order webhook secrets bound into it."""
    texts = _texts(definition.nodes)
    return any(ORDER_SECRETS in t or ORDER_BUSINESSES in t for t in texts)


def _js_string(text: str) -> str:
    """A JS string literal of ``text`` with no brace or parenthesis in it."""
    literal = json.dumps(text, ensure_ascii=True)
    for char, escape in (("{", "\\u007b"), ("}", "\\u007d"), ("(", "\\u0028"), (")", "\\u0029")):
        literal = literal.replace(char, escape)
    return literal


def secrets_literal(secrets: Mapping[str, str]) -> str:
    """``({"slug":"secret",...})``: what ``{{ORDER_WEBHOOK_SECRETS}}`` becomes."""
    pairs = ",".join(f"{_js_string(k)}:{_js_string(v)}" for k, v in sorted(secrets.items()))
    return "({" + pairs + "})"


def businesses_literal(secrets: Mapping[str, str]) -> str:
    """``/*ORDER_WEBHOOK_BUSINESSES*/["slug",...]``: what ``{{ORDER_WEBHOOK_BUSINESSES}}``
    becomes (names only, no secret)."""
    return _BUSINESSES_MARK + "[" + ",".join(_js_string(k) for k in sorted(secrets)) + "]"


def mask_secrets(text: str) -> str:
    """``text`` with any bound secrets put back as their placeholder (for messages)."""
    return BOUND_SECRETS_PATTERN.sub(lambda _m: ORDER_SECRETS, text)


def mask_value(value: Any) -> Any:
    """``value`` (a parameter, any JSON) with every string passed through ``mask_secrets``."""
    return _map_strings(value, mask_secrets)


def error_workflow_name(definition: WorkflowDefinition) -> str | None:
    value = definition.settings.get("errorWorkflow")
    return value if isinstance(value, str) and value else None


def check_platform_url(url: str) -> str:
    """The URL without a trailing slash; ``BindingError`` unless it is http(s)://host..."""
    cleaned = url.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", cleaned):
        raise BindingError(f"platform URL must be http(s)://host[:port][/path], got {url!r}")
    if cleaned.endswith(API_PREFIX):
        raise BindingError(f"platform URL is the base, without {API_PREFIX}: got {url!r}")
    return cleaned


def render(
    definition: WorkflowDefinition, binding: Binding, *, strict: bool = True
) -> WorkflowDefinition:
    """A copy of ``definition`` bound to ``binding`` (what deploy sends, diff compares).

    ``strict`` (deploy): anything the binding lacks is a ``BindingError``. Otherwise
    (diff) what cannot be bound stays as the file has it, and shows as a difference."""
    url = PLATFORM_URL  # left as written while there is no URL to put there
    if binding.platform_url is not None:
        url = check_platform_url(binding.platform_url)
    elif strict and any(PLATFORM_URL in text for text in _texts(definition.nodes)):
        raise BindingError(
            f"it calls the platform ({PLATFORM_URL}): give the platform's URL as n8n "
            "reaches it (--platform-url)"
        )
    if (
        strict
        and binding.credential_id is None
        and any(uses_platform_credential(n) for n in definition.nodes)
    ):
        raise BindingError(
            f"it uses the n8n credential {CREDENTIAL_NAME!r}, which n8n does not have yet "
            "and no token was given to create it"
        )
    if binding.order_secrets is None and strict and signs_orders(definition):
        raise BindingError(
            "it signs orders with the businesses' order webhook secrets, and none were "
            "given (the platform's MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET)"
        )
    nodes = [
        _bind_node(node, url, binding.credential_id, binding.order_secrets)
        for node in definition.nodes
    ]
    settings = dict(definition.settings)
    error_name = error_workflow_name(definition)
    if error_name is not None:
        ids = binding.workflow_ids or {}
        if error_name in ids:
            settings["errorWorkflow"] = ids[error_name]
        elif strict:
            raise BindingError(
                f"settings.errorWorkflow names {error_name!r}, which is not on n8n "
                "(deploy it too: it is deployed first)"
            )
    return replace(definition, nodes=nodes, settings=settings)


def _bind_node(
    node: JSON, url: str, credential_id: str | None, order_secrets: Mapping[str, str] | None
) -> JSON:
    bound = copy.deepcopy(node)
    if "parameters" in bound:
        bound["parameters"] = _substitute(bound["parameters"], PLATFORM_URL, url)
        if order_secrets is not None:
            bound["parameters"] = _substitute(
                bound["parameters"], ORDER_SECRETS, secrets_literal(order_secrets)
            )
            bound["parameters"] = _substitute(
                bound["parameters"], ORDER_BUSINESSES, businesses_literal(order_secrets)
            )
    if credential_id is not None and uses_platform_credential(bound):
        bound["credentials"][CREDENTIAL_TYPE] = {"id": credential_id, "name": CREDENTIAL_NAME}
    return bound


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _substitute(value: Any, old: str, new: str) -> Any:
    return _map_strings(value, lambda text: text.replace(old, new))


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {k: _map_strings(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_map_strings(v, change) for v in value]
    return value


def _unbind_orders(text: str) -> str:
    text = mask_secrets(text)
    return BOUND_BUSINESSES_PATTERN.sub(lambda _m: ORDER_BUSINESSES, text)


# -- the inverse, for export ------------------------------------------------------------


def platform_url_in(nodes: list[JSON]) -> str | None:
    """The platform URL a bound workflow calls: the part before ``/api/v1`` of the first
    platform-credential HTTP node's URL, else before ``/webhooks/orders/`` of a signed
    order delivery's."""
    for marker, with_token in ((API_PREFIX, True), (ORDERS_WEBHOOK_PATH, False)):
        for node in nodes:
            if node.get("type") != HTTP_REQUEST_TYPE:
                continue
            if with_token and not uses_platform_credential(node):
                continue
            url = (node.get("parameters") or {}).get("url")
            if isinstance(url, str) and marker in url:
                base = url.removeprefix("=").split(marker, 1)[0]
                if base and PLACEHOLDER_PATTERN.search(base) is None:
                    return base
    return None


def unbind(
    nodes: list[JSON], settings: JSON, workflow_names: Mapping[str, str]
) -> tuple[list[JSON], JSON]:
    """Nodes and settings as a library file holds them: the platform URL back to its
    placeholder, credential ids dropped (names stay), ``errorWorkflow`` id -> name."""
    url = platform_url_in(nodes)
    out_nodes = []
    for node in nodes:
        node = copy.deepcopy(node)
        if url is not None and "parameters" in node:
            node["parameters"] = _substitute(node["parameters"], url, PLATFORM_URL)
        if "parameters" in node:
            node["parameters"] = _map_strings(node["parameters"], _unbind_orders)
        creds = node.get("credentials")
        if isinstance(creds, dict):
            node["credentials"] = {
                kind: {k: v for k, v in entry.items() if k != "id"}
                if isinstance(entry, dict)
                else entry
                for kind, entry in creds.items()
            }
        out_nodes.append(node)
    out_settings = dict(settings)
    error_id = out_settings.get("errorWorkflow")
    if isinstance(error_id, str) and error_id in workflow_names:
        out_settings["errorWorkflow"] = workflow_names[error_id]
    return out_nodes, out_settings
