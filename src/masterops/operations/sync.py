"""Every sync as an operation: its plan over businesses and n8n instances, and its run.

A plan turns the selected businesses into ``SyncJob``s (one per business for the
Unleashed-sourced syncs, one per distinct n8n instance for executions) and "disabled"
rows for what cannot run; ``run_sync`` runs the jobs one after another and returns one
``SyncRow`` each. ``ops sync``, ``ops demo`` and the sync jobs all go through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from masterops.integrations.base import IntegrationError
from masterops.integrations.factory import ServiceDisabled
from masterops.sync.common import Progress as Progress  # what a caller's bar receives
from masterops.sync.customers import sync_customers
from masterops.sync.executions import sync_executions
from masterops.sync.inventory import sync_inventory
from masterops.sync.locks import SyncLocked
from masterops.sync.orders import sync_orders
from masterops.sync.runs import SyncResult

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.config import Business
    from masterops.integrations.hubspot import HubSpotConnector
    from masterops.integrations.n8n import N8nConnector
    from masterops.integrations.unleashed import UnleashedConnector
    from masterops.operations.services import Services

SyncEntity = Literal["inventory", "customers", "orders", "executions"]
#: Every sync, in the order the main job runs them: deals and line items link to the
#: products and contacts the first two made.
SYNC_ENTITIES: tuple[SyncEntity, ...] = ("inventory", "customers", "orders", "executions")
UNLEASHED_ENTITIES: tuple[SyncEntity, ...] = SYNC_ENTITIES[:3]  # all but executions

#: ``start(target)`` gives a job its progress callback (or None: nobody is watching);
#: every sync reports through the same ``Progress``: (stage, done, total or None).
ProgressStart = Callable[[str], Progress | None]


def no_progress(target: str) -> Progress | None:
    return None


@dataclass
class SyncJob:
    """One sync to run: ``run`` gets a progress callback (or None) and returns its row."""

    target: str  # what the summary row names: a business, or an instance and its businesses
    business: str
    run: Callable[[Progress | None], Awaitable[SyncRow]]
    # Releases what the job holds (its connector) if it never runs: ``run`` releases it
    # itself, but a failure or Ctrl-C in an earlier job leaves the later ones unrun.
    close: Callable[[], Awaitable[None]] | None = None


@dataclass
class SyncRow:
    """One line of the summary: a job's result, or why there was nothing to run."""

    target: str
    business: str
    status: str  # succeeded, failed, interrupted, disabled
    fetched: int = 0
    written: int = 0
    failed: int = 0
    watermark: str | None = None
    message: str | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, target: str, business: str, result: SyncResult) -> SyncRow:
        """The row of any sync's result: a run with items failed is a failed row."""
        if result.ok:
            message = None
        elif result.error is not None:
            message = result.error
        else:
            message = f"{result.failed} item(s) failed"
        return cls(
            target,
            business,
            status=result.status if result.ok else "failed",
            fetched=result.fetched,
            written=result.written,
            failed=result.failed,
            watermark=result.watermark_after,
            message=message,
            result=result.to_dict(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "business": self.business,
            "status": self.status,
            "fetched": self.fetched,
            "written": self.written,
            "failed": self.failed,
            "watermark": self.watermark,
            "message": self.message,
            **({"result": self.result} if self.result else {}),
        }


class SyncPlan(NamedTuple):
    jobs: list[SyncJob]
    skipped: list[SyncRow]  # "disabled": what cannot run, and why


def failures(rows: Sequence[SyncRow]) -> list[SyncRow]:
    return [r for r in rows if r.status in ("failed", "interrupted")]


def anything_ran(rows: Sequence[SyncRow]) -> bool:
    return any(r.status != "disabled" for r in rows)


# -- running -----------------------------------------------------------------------------


async def run_jobs(jobs: Sequence[SyncJob], start: ProgressStart = no_progress) -> list[SyncRow]:
    """Run the jobs one after another (each already pages and rate-limits itself)."""
    rows: list[SyncRow] = []
    pending = list(jobs)
    try:
        while pending:
            job = pending.pop(0)
            rows.append(await job.run(start(job.target)))
    finally:
        for job in pending:
            if job.close is not None:
                await job.close()
    return rows


async def run_sync(
    entity: SyncEntity,
    services: Services,
    engine: Engine,
    businesses: Sequence[Business],
    *,
    full: bool = False,
    to_hubspot: bool = True,
    start: ProgressStart = no_progress,
) -> list[SyncRow]:
    """Plan and run one sync: a row per job, then a "disabled" row per business that
    could not take part."""
    if entity == "executions":
        jobs, skipped = plan_executions(services, engine, businesses, full=full)
    else:
        jobs, skipped = plan_unleashed(
            entity, services, engine, businesses, full=full, to_hubspot=to_hubspot
        )
    return [*await run_jobs(jobs, start), *skipped]


# -- n8n executions ----------------------------------------------------------------------


def plan_executions(
    services: Services,
    engine: Engine,
    businesses: Sequence[Business],
    *,
    full: bool,
) -> SyncPlan:
    """One job per distinct n8n instance among ``businesses``.

    One n8n usually serves every business: it is read once, by the first business that
    uses it (the watermark and the run are that business's), and its workflows are
    placed among all the businesses configured on the same instance.
    """
    config = services.config
    instances: dict[str, list[Business]] = {}
    for b in config.businesses.values():
        if b.n8n is not None:
            instances.setdefault(b.n8n.url, []).append(b)
    plan = SyncPlan([], [])
    done: set[str] = set()
    for selected in businesses:
        effective = config.business(selected.slug)  # the sandbox's credentials, if on it
        try:
            connector = services.n8n(effective.slug)
        except ServiceDisabled as exc:
            plan.skipped.append(SyncRow(selected.slug, selected.slug, "disabled", message=str(exc)))
            continue
        url = connector.account  # an n8n connector's account is its instance's URL
        if url in done:
            continue
        done.add(url)
        sharing = instances.get(url, [effective])
        names = ", ".join(b.slug for b in sharing)
        target = f"n8n {url} ({names})" if len(sharing) > 1 else f"{effective.slug} ({url})"
        plan.jobs.append(
            SyncJob(
                target=target,
                business=effective.slug,
                run=_executions_run(target, connector, engine, effective.slug, sharing, full=full),
                close=connector.aclose,
            )
        )
    return plan


def _executions_run(
    target: str,
    connector: N8nConnector,
    engine: Engine,
    owner: str,
    sharing: Sequence[Business],
    *,
    full: bool,
) -> Callable[[Progress | None], Awaitable[SyncRow]]:
    async def run(on_progress: Progress | None) -> SyncRow:
        async with connector:
            try:
                result = await sync_executions(
                    connector,
                    engine,
                    business_id=owner,
                    full=full,
                    on_progress=on_progress,
                    businesses=[(b.slug, b.name) for b in sharing],
                )
            except SyncLocked as exc:  # another run of this instance holds the lock
                return SyncRow(target, owner, "failed", message=str(exc))
        return SyncRow.of(target, owner, result)

    return run


# -- the Unleashed-sourced syncs: inventory, customers, orders ----------------------------


@dataclass(frozen=True)
class _UnleashedSync:
    """How to run one Unleashed-sourced sync."""

    run: Callable[..., Awaitable[SyncResult]]  # sync_inventory, sync_customers or sync_orders
    # The business's own settings the sync takes (the registry's word on what its
    # customers become in HubSpot).
    options: Callable[[Business], dict[str, Any]] = lambda business: {}


UNLEASHED_SYNCS: dict[SyncEntity, _UnleashedSync] = {
    "inventory": _UnleashedSync(sync_inventory),
    "customers": _UnleashedSync(
        sync_customers, lambda business: {"customers_as": business.customers_as}
    ),
    "orders": _UnleashedSync(sync_orders),
}


def plan_unleashed(
    entity: SyncEntity,
    services: Services,
    engine: Engine,
    businesses: Sequence[Business],
    *,
    full: bool,
    to_hubspot: bool,
) -> SyncPlan:
    """One job per business: its Unleashed records into the mirror and, when HubSpot is
    configured for it (and not turned off), into HubSpot."""
    spec = UNLEASHED_SYNCS[entity]
    plan = SyncPlan([], [])
    for selected in businesses:
        slug = selected.slug
        try:
            unleashed = services.unleashed(slug)
        except ServiceDisabled as exc:
            plan.skipped.append(SyncRow(slug, slug, "disabled", message=str(exc)))
            continue
        hubspot: HubSpotConnector | None = None
        if to_hubspot:
            with contextlib.suppress(ServiceDisabled):  # the mirror is still worth keeping
                hubspot = services.hubspot(slug)
        target = f"{slug} (unleashed{' -> hubspot' if hubspot is not None else ''})"
        plan.jobs.append(
            SyncJob(
                target=target,
                business=slug,
                run=_unleashed_run(
                    target,
                    spec,
                    unleashed,
                    hubspot,
                    engine,
                    selected,
                    full=full,
                    page_size=services.config.limits.unleashed_page_size,
                ),
                close=_closer(unleashed, hubspot),
            )
        )
    return plan


def _unleashed_run(
    target: str,
    spec: _UnleashedSync,
    unleashed: UnleashedConnector,
    hubspot: HubSpotConnector | None,
    engine: Engine,
    business: Business,
    *,
    full: bool,
    page_size: int,
) -> Callable[[Progress | None], Awaitable[SyncRow]]:
    slug = business.slug

    async def run(on_progress: Progress | None) -> SyncRow:
        options: dict[str, Any] = {
            "business_id": slug, "full": full, "on_progress": on_progress,
            "page_size": page_size,
            **spec.options(business),
        }  # fmt: skip
        async with contextlib.AsyncExitStack() as stack:
            await stack.enter_async_context(unleashed)
            if hubspot is not None:
                options["hubspot"] = await stack.enter_async_context(hubspot)
            try:
                result = await spec.run(unleashed, engine, **options)
            except (IntegrationError, SyncLocked) as exc:
                # The run itself is already recorded failed in sync_runs (or, refused by
                # the lock, was never started).
                return SyncRow(target, slug, "failed", message=str(exc))
        return SyncRow.of(target, slug, result)

    return run


def _closer(
    unleashed: UnleashedConnector, hubspot: HubSpotConnector | None
) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await unleashed.aclose()
        if hubspot is not None:
            await hubspot.aclose()

    return close
