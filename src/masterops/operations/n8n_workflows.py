"""The n8n workflow operations: reach n8n for a business, deploy the library, diff it.

n8n is one instance for every business: the first configured business that has n8n is
used, or the one named. n8n's refusals become ``OperationFailed`` with its own words.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from masterops.db.api_tokens import create_token
from masterops.integrations.base import IntegrationError
from masterops.integrations.factory import ServiceDisabled
from masterops.operations.errors import OperationFailed
from masterops.workflows import (
    DeployResult,
    WorkflowDefinition,
    WorkflowDiff,
    WorkflowNotFound,
    deploy,
    diff_library,
    find_workflow,
)
from masterops.workflows.deploy import PlatformAccess, bound_for_diff
from masterops.workflows.export import library_document
from masterops.workflows.failures import WorkflowFailure, record_failure
from masterops.workflows.remote import all_workflows, pick_workflow

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Config
    from masterops.integrations.n8n import N8nConnector
    from masterops.operations.services import Services

T = TypeVar("T")


def n8n_connector(services: Services, business: str | None) -> N8nConnector:
    """The n8n connector of ``business``, or of the first business that has one."""
    slugs = [business] if business else list(services.config.businesses)
    reasons: list[str] = []
    for slug in slugs:
        try:
            return services.n8n(slug)
        except ServiceDisabled as exc:
            reasons.append(str(exc))
    raise OperationFailed("n8n is not configured: " + ("; ".join(reasons) or "no business"))


def run_on_n8n(
    services: Services, business: str | None, work: Callable[[N8nConnector], Awaitable[T]]
) -> T:
    """Run ``work`` with the n8n connector, turning n8n's refusals into one-line errors."""
    connector = n8n_connector(services, business)

    async def go() -> T:
        async with connector:
            return await work(connector)

    try:
        return asyncio.run(go())
    except (WorkflowNotFound, IntegrationError) as exc:
        raise OperationFailed(str(exc)) from None


def order_webhook_secrets(config: Config) -> dict[str, str]:
    """Business slug -> order webhook secret, for the order intake workflow to sign with:
    the businesses the platform's order receiver accepts (it has their secret)."""
    return {
        slug: b.order_webhook_secret.get_secret_value()
        for slug, b in config.businesses.items()
        if b.order_webhook_secret is not None
    }


def deploy_workflows(
    services: Services,
    business: str | None,
    definitions: Sequence[WorkflowDefinition],
    *,
    activate: bool = False,
    dry_run: bool = False,
    platform_url: str | None = None,
    engine: Engine | None = None,
) -> list[DeployResult]:
    """Create or update the library's workflows on n8n, matched by exact name.

    When n8n has no platform credential yet, an operate-scope API token is created in
    the platform's database (``engine``) and kept only in the new n8n credential."""

    def new_token() -> str:
        if engine is None:
            raise OperationFailed("no platform database to create n8n's API token in")
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        with engine.begin() as conn:
            _, token = create_token(conn, name=f"n8n workflows ({stamp})", scope="operate")
        return token

    access = PlatformAccess(
        platform_url,
        new_token if engine is not None else None,
        order_webhook_secrets(services.config),
    )

    async def work(n8n: N8nConnector) -> list[DeployResult]:
        return await deploy(n8n, definitions, activate=activate, dry_run=dry_run, platform=access)

    return run_on_n8n(services, business, work)


def diff_workflows(
    services: Services,
    business: str | None,
    definitions: Sequence[WorkflowDefinition],
    *,
    ignore_positions: bool = False,
    orphans: bool = False,
    all_server: bool = False,
    platform_url: str | None = None,
) -> list[WorkflowDiff]:
    """The library compared with what n8n holds: one diff per definition (bound as
    deploy would bind it), then the server's workflows no definition names."""

    async def work(n8n: N8nConnector) -> list[WorkflowDiff]:
        server = await all_workflows(n8n)
        return diff_library(
            bound_for_diff(
                definitions, server, platform_url, order_webhook_secrets(services.config)
            ),
            server,
            ignore_positions=ignore_positions,
            orphans=orphans,
            all_server=all_server,
        )

    return run_on_n8n(services, business, work)


async def set_workflow_active(
    services: Services, business: str | None, ref: str, active: bool
) -> dict[str, Any]:
    """Activate (or deactivate) the n8n workflow whose id or exact name is ``ref``:
    ``{"id", "name", "active", "was_active"}``. Repeating it is harmless. Raises
    ``WorkflowNotFound``, ``OperationFailed`` when n8n is not configured, and n8n's
    refusal (no trigger, a webhook path taken) as its ``IntegrationError``."""
    connector = n8n_connector(services, business)
    async with connector:
        wf = await find_workflow(connector, ref)
        done = await (connector.activate(wf.id) if active else connector.deactivate(wf.id))
    return {"id": wf.id, "name": wf.name, "active": done.active, "was_active": wf.active}


def export_workflow(services: Services, business: str | None, ref: str) -> dict[str, Any]:
    """The library file content of the n8n workflow whose id or exact name is ``ref``."""

    async def work(n8n: N8nConnector) -> dict[str, Any]:
        server = await all_workflows(n8n)
        workflow = pick_workflow(server, ref)
        # The list may leave fields out; the workflow itself has them all.
        full = await n8n.get_workflow(workflow.id)
        if not full.tags:
            full = full.model_copy(update={"tags": workflow.tags})
        return library_document(full, {wf.id: wf.name for wf in server})

    return run_on_n8n(services, business, work)


def record_workflow_failure(engine: Engine, failure: WorkflowFailure) -> int:
    """Keep a failed n8n execution (as the error workflow reports it) as an error line in
    ``integration_logs``; the line's id."""
    with engine.begin() as conn:
        return record_failure(conn, failure)
