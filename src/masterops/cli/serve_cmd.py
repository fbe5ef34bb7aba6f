"""``ops serve``: the HTTP service (webhooks, JSON API, /metrics, dashboard) under uvicorn."""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.listen import bind_listening
from masterops.cli.options import command_context
from masterops.config import Config

# The web stack loads when the service starts, not for `ops --help`.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.integrations.base import BreakerRegistry
    from masterops.observability.prometheus import PrometheusTelemetry
    from masterops.operations.context import AppContext
    from masterops.web import WebSettings


def web_settings(
    config: Config,
    *,
    trust_proxy: bool = False,
    breakers: BreakerRegistry | None = None,
    telemetry: PrometheusTelemetry | None = None,
) -> WebSettings:
    """The receiver's secrets and portal map from the configuration: a business whose
    HubSpot client secret is not set cannot have its deliveries verified, so none is
    accepted for it (503 "not configured" when no business has one)."""
    from masterops.web import WebSettings

    secrets: dict[str, str] = {}
    portals: dict[int, str] = {}
    order_secrets: dict[str, str] = {}
    retiring: dict[str, tuple[str, int]] = {}
    for slug, business in config.businesses.items():
        if business.order_webhook_secret is not None:
            order_secrets[slug] = business.order_webhook_secret.get_secret_value()
        if business.order_webhook_retiring is not None:
            previous = business.order_webhook_retiring
            until_ms = int(previous.until.timestamp() * 1000)
            retiring[slug] = (previous.value.get_secret_value(), until_ms)
        hubspot = business.hubspot
        if hubspot is None:
            continue
        if hubspot.client_secret is not None:
            secrets[slug] = hubspot.client_secret.get_secret_value()
        if hubspot.portal_id is not None:
            portals[hubspot.portal_id] = slug
    return WebSettings(
        hubspot_secrets=secrets,
        hubspot_portals=portals,
        order_webhook_secrets=order_secrets,
        retiring_order_webhook_secrets=retiring,
        trust_proxy=trust_proxy,
        breakers=breakers,
        telemetry=telemetry,
        timezone=config.dashboard.timezone,
        # As the staleness alert counts it: a few missed health rounds.
        stale_after_s=config.schedules.period_s("health") * config.alerts.stale_after_schedules,
    )


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may resolve anywhere
        return False


def _require_a_token(engine: Engine, host: str) -> None:
    """Listening beyond this machine with no live token would serve nothing but 401s
    and invite the operator to weaken it; refuse, and say how to make one."""
    from masterops.db.api_tokens import live_token_exists

    with engine.connect() as conn:
        if live_token_exists(conn):
            return
    raise CommandFailed(
        f"--host {host} listens beyond this machine, and no API token exists yet; create "
        "one first with `ops tokens create --name NAME --scope read`"
    )


@contextlib.contextmanager
def _job_runner(ctx: AppContext, run_jobs: bool) -> Iterator[None]:
    """With ``--run-jobs``, a worker inside this process (named "serve"): DBOS launched
    with every queue, so the jobs the API enqueues run here. Without it, they wait for
    an ``ops worker``."""
    if not run_jobs:
        yield
        return
    from masterops.jobs.liveness import Liveness
    from masterops.jobs.queues import register_queues
    from masterops.jobs.runtime import executor_id, launched

    config = ctx.config
    with launched(config, worker_name="serve"):
        register_queues(config.businesses)
        # A worker like any other: it beats and takes over silent workers' jobs.
        liveness = Liveness(
            config,
            ctx.database(),
            ctx.hub,
            executor_id("serve"),
            say=lambda text: typer.echo(text, err=True),
        )
        with liveness.in_background():
            typer.echo("running queued jobs in this process (worker 'serve')", err=True)
            yield


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    trust_proxy: Annotated[
        bool,
        typer.Option(
            "--trust-proxy",
            help="Believe X-Forwarded-Proto/Host (only behind a proxy that sets them).",
        ),
    ] = False,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request.")
    ] = True,
    run_jobs: Annotated[
        bool,
        typer.Option(
            "--run-jobs",
            help="Also run the queued jobs (syncs started through the API) in this process, "
            "for an installation without `ops worker`.",
        ),
    ] = False,
) -> None:
    """Serve the webhook receivers, the JSON API, /metrics and the dashboard."""
    if not 0 < port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, got {port}")
    import uvicorn  # local: keeps every other command's start-up light

    from masterops.operations.jobs import JobQueue
    from masterops.operations.order_intake import services_trigger
    from masterops.web import create_app

    listening = bind_listening(host, port)
    with (
        listening,
        command_context() as ctx,
        ctx.services() as services,
        _job_runner(ctx, run_jobs),
        contextlib.closing(JobQueue(ctx.config)) as jobs,
    ):
        # This process's breakers and telemetry counters are exported beside the
        # database's gauges: whatever runs here on ctx.runtime feeds them (the health
        # rounds an operate token starts, on these connectors, included).
        settings = replace(
            web_settings(
                ctx.config,
                trust_proxy=trust_proxy,
                breakers=ctx.runtime.breakers,
                telemetry=ctx.prometheus,
            ),
            services=services,
            hub=ctx.hub,
            # A stored order is applied at once, on this process's connectors.
            order_intake=services_trigger(ctx.database(), ctx.hub, services),
            jobs=jobs,
        )
        if not is_loopback(host):
            _require_a_token(ctx.database(), host)
        app = create_app(ctx.database(), settings)
        for problem in ctx.config.problems:  # e.g. a client secret ignored for want of a token
            typer.echo(f"warning: {problem}", err=True)
        if not settings.hubspot_secrets:
            typer.echo(
                "note: no HubSpot client secret is configured; POST /webhooks/hubspot "
                "answers 503 until one is",
                err=True,
            )
        typer.echo(f"serving on http://{host}:{port}/ (Ctrl-C stops)", err=True)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_level=ctx.config.log_level if ctx.config.log_level != "warn" else "warning",
                access_log=access_log,
                # One switch for proxy trust: uvicorn would otherwise rewrite the scheme
                # from X-Forwarded-Proto for loopback clients on its own.
                proxy_headers=trust_proxy,
                server_header=False,
            )
        )
        try:
            server.run(sockets=[listening])
        except KeyboardInterrupt:
            # uvicorn re-raises Ctrl-C once it has shut down cleanly: a normal stop.
            typer.echo("stopped", err=True)
