"""Finding workflows and tags on the server by what an operator types: an id or a name."""

from __future__ import annotations

from collections.abc import Sequence

from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.integrations.n8n import MAX_PAGE_SIZE, N8nConnector, Tag, Workflow


class WorkflowNotFound(LookupError):
    """No workflow (or more than one) answers to what the operator typed."""


async def all_workflows(connector: N8nConnector) -> list[Workflow]:
    return [wf async for wf in connector.list_workflows(page_size=MAX_PAGE_SIZE)]


def pick_workflow(workflows: Sequence[Workflow], ref: str) -> Workflow:
    """The workflow whose id is ``ref``, else whose name is exactly ``ref``.

    Ids win because they are unique; a name two workflows share is refused with their
    ids, rather than acting on one of them at random."""
    for wf in workflows:
        if wf.id == ref:
            return wf
    named = [wf for wf in workflows if wf.name == ref]
    if not named:
        raise WorkflowNotFound(f"no workflow with id or name {ref!r}")
    if len(named) > 1:
        ids = ", ".join(wf.id for wf in named)
        raise WorkflowNotFound(f"{len(named)} workflows are named {ref!r} (ids {ids}): use an id")
    return named[0]


async def find_workflow(connector: N8nConnector, ref: str) -> Workflow:
    """``pick_workflow`` over everything on the server (one paged list)."""
    return pick_workflow(await all_workflows(connector), ref)


async def ensure_tags(connector: N8nConnector, names: Sequence[str]) -> dict[str, Tag]:
    """The tags named, created when missing; by name."""
    existing = {t.name: t async for t in connector.list_tags(page_size=MAX_PAGE_SIZE)}
    for name in names:
        if name in existing:
            continue
        try:
            existing[name] = await connector.create_tag(name)
        except IntegrationError as exc:
            # Someone else created it between our list and our create: use theirs.
            if exc.category is not ErrorCategory.CONFLICT:
                raise
            again = {t.name: t async for t in connector.list_tags(page_size=MAX_PAGE_SIZE)}
            if name not in again:
                raise
            existing[name] = again[name]
    return {name: existing[name] for name in names}
