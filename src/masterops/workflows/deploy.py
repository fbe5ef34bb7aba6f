"""Deploying the library: create or update each workflow by name, tag it, maybe activate it.

Idempotent: a workflow whose nodes, connections and settings already match (as ``diff``
sees them) is not written, so a second deploy changes nothing, not even ``updatedAt`` or
the version. One workflow failing (n8n refusing an activation, say) does not stop the
others; its row says why.

An update keeps what n8n gave the live workflow and the file does not name: node ids
(so n8n's history and pinned data stay attached) and credentials attached in the editor.

Each definition is bound to the installation first (``platform.render``): the platform
URL, the platform credential's id (created once, from ``PlatformAccess.new_token``, when
no live workflow uses one yet) and ``settings.errorWorkflow`` from a name to an id.
Workflows other workflows name as their error workflow are deployed first, so their ids
exist when the others are bound.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from masterops.integrations.base import IntegrationError
from masterops.integrations.n8n import N8nConnector, Tag, Workflow
from masterops.workflows.diff import compare
from masterops.workflows.library import WorkflowDefinition, activatable
from masterops.workflows.platform import (
    CREDENTIAL_NAME,
    CREDENTIAL_TYPE,
    Binding,
    BindingError,
    error_workflow_name,
    needs_credential,
    render,
    signs_orders,
    uses_platform_credential,
)
from masterops.workflows.remote import all_workflows, ensure_tags

Outcome = Literal["created", "updated", "unchanged", "failed"]


@dataclass
class DeployResult:
    """What happened to one workflow. With ``dry_run`` nothing was written: the outcome
    is what a real deploy would do."""

    name: str
    path: str
    status: Outcome
    workflow_id: str | None = None
    active: bool | None = None
    activated: bool = False
    changes: tuple[str, ...] = ()
    #: Why the create/update ("failed") or the activation after it went wrong.
    error: str | None = None
    #: Something the operator should know that is not a failure.
    note: str | None = None
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "status": self.status,
            "workflow_id": self.workflow_id,
            "active": self.active,
            "activated": self.activated,
            "changes": list(self.changes),
            "error": self.error,
            "note": self.note,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class PlatformAccess:
    """How the deployed workflows reach the platform: its URL as n8n sees it, and where a
    token comes from when n8n has no platform credential yet (called at most once)."""

    url: str | None = None
    new_token: Callable[[], str] | None = None
    #: Business slug -> order webhook secret, for the order intake to sign with (the
    #: platform's ``MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET``). Empty: the deployed
    #: intake refuses every business.
    order_secrets: Mapping[str, str] = field(default_factory=dict)


def deploy_order(definitions: Sequence[WorkflowDefinition]) -> list[WorkflowDefinition]:
    """Error workflows (those another definition names) first, the rest as given."""
    named = {error_workflow_name(d) for d in definitions}
    return sorted(definitions, key=lambda d: d.name not in named)


def credential_on_server(workflows: Iterable[Workflow]) -> str | None:
    """The id of the platform credential one of ``workflows`` already uses, if any."""
    for wf in workflows:
        for node in wf.nodes:
            entry = (node.credentials or {}).get(CREDENTIAL_TYPE)
            if isinstance(entry, dict) and entry.get("name") == CREDENTIAL_NAME and entry.get("id"):
                return str(entry["id"])
    return None


async def deploy(
    connector: N8nConnector,
    definitions: Sequence[WorkflowDefinition],
    *,
    activate: bool = False,
    dry_run: bool = False,
    platform: PlatformAccess | None = None,
) -> list[DeployResult]:
    """Create-or-update every definition by exact name; one result per definition (in
    deploy order: error workflows first)."""
    platform = platform or PlatformAccess()
    server: dict[str, Workflow] = {}
    for wf in await all_workflows(connector):
        server.setdefault(wf.name, wf)
    tags: dict[str, Tag] = {}
    if not dry_run:
        wanted = list(dict.fromkeys(t for d in definitions for t in d.wanted_tags))
        tags = await ensure_tags(connector, wanted)
    # Only the workflows being deployed are asked: another deployment on the same n8n (a
    # test's, a staging one) may hold a credential for another platform.
    credential_id = credential_on_server(server[d.name] for d in definitions if d.name in server)
    credential_note = None
    if credential_id is None and needs_credential(list(definitions)):
        if dry_run:
            credential_id, credential_note = "(new)", "would create the platform credential"
        elif platform.new_token is not None:
            created = await connector.create_credential(
                CREDENTIAL_NAME,
                CREDENTIAL_TYPE,
                {"name": "Authorization", "value": f"Bearer {platform.new_token()}"},
            )
            credential_id = created.id
            credential_note = f"created the n8n credential {CREDENTIAL_NAME!r} ({created.id})"
    ids = {name: wf.id for name, wf in server.items()}
    results = []
    for definition in deploy_order(definitions):
        try:
            bound = render(
                definition, Binding(platform.url, credential_id, ids, platform.order_secrets)
            )
        except BindingError as exc:
            results.append(
                DeployResult(
                    definition.name,
                    str(definition.path),
                    "failed",
                    workflow_id=ids.get(definition.name),
                    error=str(exc),
                    dry_run=dry_run,
                )
            )
            continue
        try:
            result = await _deploy_one(
                connector,
                bound,
                server.get(definition.name),
                tags,
                activate=activate,
                dry_run=dry_run,
            )
            ids[definition.name] = result.workflow_id or "(new)"
            if credential_note and any(uses_platform_credential(n) for n in bound.nodes):
                result.note = "; ".join(filter(None, [credential_note, result.note]))
                credential_note = None
            if signs_orders(definition) and not platform.order_secrets:
                result.note = "; ".join(
                    filter(
                        None,
                        [
                            result.note,
                            "no business has an order webhook secret "
                            "(MASTEROPS_<BUSINESS>_ORDER_WEBHOOK_SECRET): it refuses every "
                            "order until one is set and the workflows are deployed again",
                        ],
                    )
                )
        except IntegrationError as exc:
            result = DeployResult(
                definition.name,
                str(definition.path),
                "failed",
                workflow_id=getattr(server.get(definition.name), "id", None),
                error=exc.message,
                dry_run=dry_run,
            )
        results.append(result)
    return results


async def _deploy_one(
    connector: N8nConnector,
    definition: WorkflowDefinition,
    current: Workflow | None,
    tags: dict[str, Tag],
    *,
    activate: bool,
    dry_run: bool,
) -> DeployResult:
    result = DeployResult(definition.name, str(definition.path), "unchanged", dry_run=dry_run)
    if current is None:
        result.status = "created"
        if not dry_run:
            current = await connector.create_workflow(
                definition.name, definition.nodes, definition.connections, definition.settings
            )
            result.workflow_id = current.id
            await connector.set_tags(current.id, [tags[t].id for t in definition.wanted_tags])
    else:
        result.workflow_id = current.id
        diff = compare(definition, current)
        result.changes = tuple(diff.changes)
        if diff.changes:
            result.status = "updated"
        if not dry_run and diff.content_changed:
            # Saving an active workflow republishes it; a 400 here is n8n refusing the new
            # version (no trigger, a webhook path taken) and leaving it inactive.
            current = await connector.update_workflow(
                current.id,
                name=definition.name,
                nodes=_merge_nodes(definition.nodes, current),
                connections=definition.connections,
                settings=definition.settings,
            )
        if not dry_run and diff.missing_tags:
            # Tags someone added by hand stay: the library only adds its own.
            keep = [t.id for t in current.tags]
            add = [tags[t].id for t in diff.missing_tags]
            await connector.set_tags(current.id, list(dict.fromkeys([*keep, *add])))
    result.active = current.active if current is not None else False
    if activate and not result.active:
        if not activatable(definition):
            result.note = "not activated: no trigger n8n can activate (it runs when called)"
        elif dry_run:
            result.activated = result.active = True
        else:
            assert current is not None
            try:
                current = await connector.activate(current.id)
            except IntegrationError as exc:
                # The workflow is saved; only going live failed. n8n's words say why.
                result.error = f"saved but not activated: {exc.message}"
                return result
            result.activated, result.active = True, current.active
    return result


def _merge_nodes(local: Sequence[dict[str, Any]], current: Workflow) -> list[dict[str, Any]]:
    """The file's nodes, with the live node's id and credentials where the file has none."""
    live = {n.name: n for n in current.nodes}
    merged = []
    for node in local:
        node = dict(node)
        twin = live.get(node["name"])
        if twin is not None:
            if "id" not in node and twin.id:
                node["id"] = twin.id
            if "credentials" not in node and twin.credentials:
                node["credentials"] = twin.credentials
        merged.append(node)
    return merged


def bound_for_diff(
    definitions: Sequence[WorkflowDefinition],
    server: Sequence[Workflow],
    platform_url: str | None,
    order_secrets: Mapping[str, str] | None = None,
) -> list[WorkflowDefinition]:
    """The definitions bound as a deploy to ``server`` would bind them; what cannot be
    bound yet (no credential, error workflow not deployed) stays as written."""
    names = {d.name for d in definitions}
    credential = credential_on_server(wf for wf in server if wf.name in names)
    binding = Binding(
        platform_url,
        credential,
        {wf.name: wf.id for wf in server},
        # As deploy binds them: no secrets given is no business with one.
        order_secrets if order_secrets is not None else {},
    )
    return [render(d, binding, strict=False) for d in definitions]
