"""``ops sync ...``: move data from the services into the platform database, incrementally.

Every sync command has the same shape: pick the businesses, build one ``SyncJob`` per
thing to sync (a business, or an n8n instance several businesses share), run them with
a progress bar, print one summary row per job and exit 1 if any failed. A new command
is one function: build its jobs and call ``run_sync_command``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Protocol

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, WideOpt, command_context

# Connectors, the sandbox and the sync modules are imported when a command runs, so the
# rest of `ops` starts as fast as before.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.cli.services import Services
    from masterops.config import Business, Config

app = typer.Typer(
    help="Move data from the services into the platform database, incrementally "
    "(safe to stop and run again).",
    no_args_is_help=True,
)

FullOpt = Annotated[
    bool, typer.Option("--full", help="Read everything again, ignoring the watermark.")
]

Progress = Callable[[int], None]


class SyncSummary(Protocol):
    """What a summary row needs from a sync's result (``SyncResult`` of any entity)."""

    # Read-only properties, so a result whose status is a Literal (or a dataclass field)
    # still fits.
    @property
    def status(self) -> str: ...  # "succeeded", "failed", "interrupted"
    @property
    def fetched(self) -> int: ...
    @property
    def written(self) -> int: ...
    @property
    def failed(self) -> int: ...
    @property
    def watermark_after(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


@dataclass
class SyncJob:
    """One sync to run: ``run`` gets a progress callback (or None) and returns the result."""

    target: str  # what the summary row names: a business, or an instance and its businesses
    business: str
    run: Callable[[Progress | None], Awaitable[SyncSummary]]
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


# -- shared helpers ----------------------------------------------------------------------


def select_businesses(config: Config, business: str | None) -> list[Business]:
    """The business named by ``--business``, or every configured one."""
    if business is None:
        return list(config.businesses.values())
    if business not in config.businesses:
        known = ", ".join(config.businesses) or "none"
        raise UsageError(f"--business: unknown business {business!r}; known: {known}")
    return [config.businesses[business]]


def show_progress(json_output: bool) -> bool:
    """A bar only for a person watching: not with --json, not into a pipe or file."""
    return not json_output and sys.stdout.isatty()


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str], Progress | None]]:
    """Yields ``start(description)`` which adds a bar and returns its advance callback
    (``None`` when bars are off). Totals are unknown up front, so bars count upward."""
    if not enabled:
        yield lambda description: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.progress import Progress as RichProgress

    from masterops.cli.output import console

    with RichProgress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("read"),
        TimeElapsedColumn(),
        console=console(),
    ) as bar:

        def start(description: str) -> Progress:
            task = bar.add_task(description, total=None)
            return lambda n: bar.advance(task, n)

        yield start


async def run_jobs(jobs: Sequence[SyncJob], *, progress: bool) -> list[SyncRow]:
    """Run the jobs one after another (each already pages and rate-limits itself)."""
    rows: list[SyncRow] = []
    pending = list(jobs)
    try:
        with progress_bar(progress) as start:
            while pending:
                job = pending.pop(0)
                result = await job.run(start(job.target))
                as_dict = getattr(result, "to_dict", None)
                rows.append(
                    SyncRow(
                        target=job.target,
                        business=job.business,
                        status=result.status,
                        fetched=result.fetched,
                        written=result.written,
                        failed=result.failed,
                        watermark=result.watermark_after,
                        message=result.error,
                        result=as_dict() if callable(as_dict) else {},
                    )
                )
    finally:
        for job in pending:
            if job.close is not None:
                await job.close()
    return rows


def render(entity: str, rows: Sequence[SyncRow], *, json_output: bool, wide: bool = False) -> None:
    from masterops.cli.output import print_json, print_table

    if json_output:
        print_json(
            {
                "entity": entity,
                "ok": not failures(rows) and any(r.status != "disabled" for r in rows),
                "results": [r.to_dict() for r in rows],
            }
        )
        return
    print_table(
        [r.to_dict() for r in rows],
        ["target", "fetched", "written", "failed", "watermark", "status", "message"],
        title=f"sync {entity}",
        empty="nothing to sync",
        optional=("watermark",),
        wide=wide,
    )


def failures(rows: Sequence[SyncRow]) -> list[SyncRow]:
    return [r for r in rows if r.status in ("failed", "interrupted")]


def exit_status(entity: str, rows: Sequence[SyncRow]) -> None:
    """Exit 1 naming what failed, or naming why nothing could run; return when all is well."""
    failed = failures(rows)
    if failed:
        names = "; ".join(f"{r.target}: {r.message or r.status}" for r in failed)
        raise CommandFailed(f"sync {entity} failed for {names}")
    if not any(r.status != "disabled" for r in rows):
        reasons = "; ".join(r.message or r.target for r in rows) or "no business is configured"
        raise CommandFailed(f"sync {entity}: nothing could be synced: {reasons}")


def run_sync_command(
    entity: str,
    *,
    business: str | None,
    json_output: bool,
    wide: bool = False,
    plan: Callable[[Services, Engine, list[Business]], tuple[list[SyncJob], list[SyncRow]]],
) -> None:
    """The body every ``ops sync`` command shares: ``plan`` turns the selected businesses
    into jobs (and "disabled" rows for what cannot run); this runs, prints and exits."""
    from masterops.cli.services import open_services

    with command_context(json_output) as ctx:
        businesses = select_businesses(ctx.config, business)
        engine = ctx.database()
        with open_services(ctx.config, ctx.hub, engine) as services:
            jobs, skipped = plan(services, engine, businesses)
            rows = asyncio.run(run_jobs(jobs, progress=show_progress(json_output)))
        rows = [*rows, *skipped]
        render(entity, rows, json_output=json_output, wide=wide)
    # After the context closed, so the telemetry sink has flushed before the process ends.
    exit_status(entity, rows)


# -- ops sync executions -----------------------------------------------------------------


def _execution_jobs(
    services: Services,
    engine: Engine,
    businesses: list[Business],
    *,
    full: bool,
) -> tuple[list[SyncJob], list[SyncRow]]:
    """One job per distinct n8n instance among ``businesses``.

    One n8n usually serves every business: it is read once, by the first business that
    uses it (the watermark and the run are that business's), and its workflows are
    placed among all the businesses configured on the same instance.
    """
    from masterops.cli.services import ServiceDisabled
    from masterops.integrations.n8n import N8nConnector
    from masterops.sync.executions import SyncResult as ExecutionsResult
    from masterops.sync.executions import sync_executions
    from masterops.sync.locks import SyncLocked

    config = services.config
    instances: dict[str, list[Business]] = {}
    for b in config.businesses.values():
        if b.n8n is not None:
            instances.setdefault(b.n8n.url, []).append(b)
    jobs: list[SyncJob] = []
    skipped: list[SyncRow] = []
    done: set[str] = set()
    for selected in businesses:
        effective = config.business(selected.slug)  # the sandbox's credentials, if on it
        try:
            connector = services.connector("n8n", effective.slug)
        except ServiceDisabled as exc:
            skipped.append(SyncRow(selected.slug, selected.slug, "disabled", message=str(exc)))
            continue
        assert isinstance(connector, N8nConnector) and effective.n8n is not None
        url = effective.n8n.url
        if url in done:
            continue
        done.add(url)
        sharing = instances.get(url, [effective])
        names = ", ".join(b.slug for b in sharing)
        target = f"n8n {url} ({names})" if len(sharing) > 1 else f"{effective.slug} ({url})"

        def run(
            on_progress: Progress | None,
            connector: N8nConnector = connector,
            slug: str = effective.slug,
            sharing: list[Business] = sharing,
        ) -> Awaitable[SyncSummary]:
            async def go() -> SyncSummary:
                async with connector:
                    try:
                        return await sync_executions(
                            connector,
                            engine,
                            business_id=slug,
                            full=full,
                            on_progress=on_progress,
                            businesses=[(b.slug, b.name) for b in sharing],
                        )
                    except SyncLocked as exc:
                        return ExecutionsResult(slug, status="failed", error=str(exc))

            return go()

        jobs.append(
            SyncJob(target=target, business=effective.slug, run=run, close=connector.aclose)
        )
    return jobs, skipped


@app.command("executions")
def executions(
    business: BusinessOpt = None,
    full: FullOpt = False,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Copy n8n's execution history into workflow_execution_logs (each n8n instance once)."""
    run_sync_command(
        "executions",
        business=business,
        json_output=json_output,
        wide=wide,
        plan=lambda services, engine, businesses: _execution_jobs(
            services, engine, businesses, full=full
        ),
    )


# -- the Unleashed-sourced syncs: inventory, customers, orders ----------------------------


@dataclass(frozen=True)
class _UnleashedSummary:
    """An Unleashed-sourced run as a summary row reads it (the sync's result, or the
    error that ended the run: the run itself is already recorded failed in sync_runs)."""

    status: str
    fetched: int = 0
    written: int = 0
    failed: int = 0
    watermark_after: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.details


def _counting(on_progress: Progress | None) -> Callable[[str, int, int | None], None] | None:
    """Adapts a sync's (stage, done, total) reports to a bar that advances."""
    if on_progress is None:
        return None
    seen: dict[str, int] = {}

    def report(stage: str, done: int, _total: int | None) -> None:
        step = done - seen.get(stage, 0)
        seen[stage] = done
        if step > 0:
            on_progress(step)

    return report


@dataclass(frozen=True)
class _Entity:
    """How to run one Unleashed-sourced sync and read its result's counts."""

    name: str
    module: str  # masterops.sync.<module> holds sync_<name>
    fetched: tuple[str, ...]  # result fields summed for the row's "fetched"
    written: tuple[str, ...]

    def function(self) -> Callable[..., Awaitable[Any]]:
        import importlib

        sync: Callable[..., Awaitable[Any]] = getattr(
            importlib.import_module(f"masterops.sync.{self.module}"), f"sync_{self.name}"
        )
        return sync

    def summary(self, result: Any) -> _UnleashedSummary:
        ok = bool(result.ok)
        return _UnleashedSummary(
            status=result.status if ok else "failed",
            fetched=sum(int(getattr(result, f)) for f in self.fetched),
            written=sum(int(getattr(result, f)) for f in self.written),
            failed=result.hubspot_failed,
            watermark_after=result.watermark_after,
            error=None if ok else f"{result.hubspot_failed} HubSpot item(s) failed",
            details=result.to_dict(),
        )


ENTITIES = {
    e.name: e
    for e in (
        _Entity("inventory", "inventory", ("products_fetched", "stock_fetched"),
                ("products_written", "stock_written")),
        _Entity("customers", "customers", ("customers_fetched",), ("customers_written",)),
        _Entity("orders", "orders", ("orders_fetched",), ("orders_written", "lines_written")),
    )
}  # fmt: skip


def unleashed_jobs(
    entity: str,
    services: Services,
    engine: Engine,
    businesses: list[Business],
    *,
    full: bool,
    to_hubspot: bool,
) -> tuple[list[SyncJob], list[SyncRow]]:
    """One job per business: its Unleashed records into the mirror and, when HubSpot is
    configured for it (and not turned off), into HubSpot."""
    from masterops.cli.services import ServiceDisabled
    from masterops.integrations.base import IntegrationError
    from masterops.integrations.hubspot import HubSpotConnector
    from masterops.integrations.unleashed import UnleashedConnector
    from masterops.sync.locks import SyncLocked

    spec = ENTITIES[entity]
    sync = spec.function()
    jobs: list[SyncJob] = []
    skipped: list[SyncRow] = []
    for selected in businesses:
        slug = selected.slug
        try:
            unleashed = services.connector("unleashed", slug)
        except ServiceDisabled as exc:
            skipped.append(SyncRow(slug, slug, "disabled", message=str(exc)))
            continue
        hubspot: HubSpotConnector | None = None
        if to_hubspot:
            try:
                built = services.connector("hubspot", slug)
                assert isinstance(built, HubSpotConnector)
                hubspot = built
            except ServiceDisabled:
                hubspot = None  # the mirror is still worth keeping
        assert isinstance(unleashed, UnleashedConnector)
        # The registry's word on what a business's customers become in HubSpot.
        extra: dict[str, Any] = (
            {"customers_as": selected.customers_as} if entity == "customers" else {}
        )

        def run(
            on_progress: Progress | None,
            unleashed: UnleashedConnector = unleashed,
            hubspot: HubSpotConnector | None = hubspot,
            slug: str = slug,
            extra: dict[str, Any] = extra,
        ) -> Awaitable[SyncSummary]:
            async def go() -> SyncSummary:
                options: dict[str, Any] = {
                    "business_id": slug, "full": full, "on_progress": _counting(on_progress),
                    **extra,
                }  # fmt: skip
                async with contextlib.AsyncExitStack() as stack:
                    await stack.enter_async_context(unleashed)
                    if hubspot is not None:
                        options["hubspot"] = await stack.enter_async_context(hubspot)
                    try:
                        result = await sync(unleashed, engine, **options)
                    except (IntegrationError, SyncLocked) as exc:
                        return _UnleashedSummary(status="failed", error=str(exc))
                return spec.summary(result)

            return go()

        target = f"{slug} (unleashed{' -> hubspot' if hubspot is not None else ''})"

        async def close(
            unleashed: UnleashedConnector = unleashed, hubspot: HubSpotConnector | None = hubspot
        ) -> None:
            await unleashed.aclose()
            if hubspot is not None:
                await hubspot.aclose()

        jobs.append(SyncJob(target=target, business=slug, run=run, close=close))
    return jobs, skipped


NoHubSpotOpt = Annotated[
    bool, typer.Option("--no-hubspot", help="Only the database mirror; send nothing.")
]


def _run_unleashed(entity: str, business: str | None, full: bool, no_hubspot: bool,
                   json_output: bool, wide: bool) -> None:  # fmt: skip
    run_sync_command(
        entity,
        business=business,
        json_output=json_output,
        wide=wide,
        plan=lambda services, engine, businesses: unleashed_jobs(
            entity, services, engine, businesses, full=full, to_hubspot=not no_hubspot
        ),
    )


@app.command("inventory")
def inventory(
    business: BusinessOpt = None,
    full: FullOpt = False,
    no_hubspot: NoHubSpotOpt = False,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Copy Unleashed products and stock into the database, and products into HubSpot."""
    _run_unleashed("inventory", business, full, no_hubspot, json_output, wide)


@app.command("customers")
def customers(
    business: BusinessOpt = None,
    full: FullOpt = False,
    no_hubspot: NoHubSpotOpt = False,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Copy Unleashed customers into the database, and into HubSpot contacts."""
    _run_unleashed("customers", business, full, no_hubspot, json_output, wide)


@app.command("orders")
def orders(
    business: BusinessOpt = None,
    full: FullOpt = False,
    no_hubspot: NoHubSpotOpt = False,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """Copy Unleashed sales orders into the database, and into HubSpot deals and line items
    (run inventory and customers first so line items and deals link to them)."""
    _run_unleashed("orders", business, full, no_hubspot, json_output, wide)
