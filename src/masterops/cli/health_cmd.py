"""``ops health``: check every service of every business, store, alert, exit 0/1/2."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from masterops.cli.context import AppContext
from masterops.cli.errors import CommandFailed, SchemaBehind, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, WideOpt, check_business, command_context
from masterops.config import SERVICES

# The round's modules pull in httpx, the connectors and smtplib: imported when the command
# runs, so that every other `ops` command starts as fast as before.
if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.alerts import AlertRecord
    from masterops.cli.services import Services
    from masterops.health import ExitCodeMode, HealthReport
    from masterops.observability.events import TelemetryHub

STATUS_STYLE = {"healthy": "green", "degraded": "yellow", "down": "red", "disabled": "dim"}


@dataclass(frozen=True)
class RoundOutcome:
    report: HealthReport
    alerts: list[AlertRecord]


async def run_round(
    services: Services,
    engine: Engine,
    hub: TelemetryHub,
    *,
    business: str | None,
    service: str | None,
    send_alerts: bool,
) -> RoundOutcome:
    from masterops.alerts import alert_on_changes
    from masterops.health import record_round, run_health_round
    from masterops.observability.redaction import Redactor

    report = await run_health_round(
        services,
        engine,
        businesses=None if business is None else [business],
        service_filter=service,
    )
    redactor = Redactor(services.config.secrets())
    previous = await asyncio.to_thread(record_round, engine, report.results, redactor=redactor)
    alerts = (
        await alert_on_changes(report.results, previous, engine, services.config, hub)
        if send_alerts
        else []
    )
    return RoundOutcome(report, alerts)


def render_report(outcome: RoundOutcome, mode: ExitCodeMode, *, wide: bool = False) -> None:
    from rich.markup import escape

    from masterops.cli.output import console, print_table

    report = outcome.report
    out = console()
    rows = [
        {
            "business": r.business_id,
            "service": r.service,
            "status": r.status,
            "latency": "" if r.latency_ms is None else f"{r.latency_ms:,.0f} ms",
            "breaker": "" if r.status == "disabled" else r.breaker,  # no connector, no breaker
            "message": r.message,
        }
        for r in report.results
    ]
    print_table(
        rows, title="Health", optional=("breaker", "latency"), styles={"status": STATUS_STYLE},
        wide=wide,
    )  # fmt: skip
    for record in outcome.alerts:
        done = "sent" if record.delivery.delivered else f"NOT sent: {record.delivery.error}"
        out.print(
            escape(f"alert via {record.delivery.channel}: {record.alert.title} ({done})"),
            highlight=False,
        )
    counts = ", ".join(f"{n} {s}" for s, n in report.counts().items() if n)
    style = STATUS_STYLE[report.status]
    out.print(
        f"overall: [{style}]{report.status}[/{style}] ({escape(counts or 'nothing checked')}); "
        f"exit code {report.exit_code(mode)}",
        highlight=False,
    )


def _database(ctx: AppContext, mode: ExitCodeMode) -> Engine:
    """The platform database, or exit 2: it is the one service every other depends on,
    so its being unreachable is "down", not the generic failure (1 would read "degraded").
    A schema behind the code exits 3 (1 with ``--exit-codes docker``, which has only 0/1)."""
    from sqlalchemy.exc import OperationalError

    from masterops.db.engine import describe_url
    from masterops.observability.redaction import Redactor

    try:
        return ctx.database()
    except SchemaBehind as exc:
        if mode == "docker":
            raise CommandFailed(str(exc), exit_code=1) from None
        raise
    except OperationalError as exc:
        original = str(getattr(exc, "orig", None) or exc).strip()
        reason = original.splitlines()[0] if original else type(exc).__name__
        message = f"the platform database is down: {describe_url(ctx.engine)}: {reason}"
        raise CommandFailed(Redactor(ctx.config.secrets()).text(message), exit_code=2) from None


def health(
    business: BusinessOpt = None,
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            "-s",
            help=f"Only this service (database, supabase, {', '.join(SERVICES)}).",
        ),
    ] = None,
    json_output: JsonOpt = False,
    exit_codes: Annotated[
        str,
        typer.Option(
            "--exit-codes",
            help="default: 0 healthy, 1 degraded, 2 down, 3 schema behind; "
            "docker: 0 healthy, 1 otherwise.",
        ),
    ] = "default",
    no_alerts: Annotated[
        bool, typer.Option("--no-alerts", help="Store the results but send no alert.")
    ] = False,
    wide: WideOpt = False,
) -> None:
    """Check every service of every business; store, alert on change, exit 0/1/2.

    Exit codes: 0 healthy, 1 degraded, 2 down, 3 the database schema is behind (run
    ops db upgrade); --exit-codes docker: 0 healthy, 1 not.
    """
    from masterops.cli.output import print_json
    from masterops.cli.services import open_services
    from masterops.health import EXIT_CODE_MODES, KNOWN_SERVICES

    if exit_codes not in EXIT_CODE_MODES:
        raise UsageError(
            f"--exit-codes must be one of {', '.join(EXIT_CODE_MODES)}, got {exit_codes!r}"
        )
    mode: ExitCodeMode = "docker" if exit_codes == "docker" else "default"
    if service is not None and service not in KNOWN_SERVICES:
        raise UsageError(f"--service must be one of {', '.join(KNOWN_SERVICES)}, got {service!r}")
    with command_context(json_output) as ctx:
        config = ctx.config
        check_business(config, business)
        engine = _database(ctx, mode)
        hub = ctx.hub
        with open_services(config, hub, engine) as services:
            outcome = asyncio.run(
                run_round(
                    services,
                    engine,
                    hub,
                    business=business,
                    service=service,
                    send_alerts=not no_alerts,
                )
            )
        if json_output:
            print_json(
                {
                    **outcome.report.to_dict(mode),
                    "alerts": [record.to_dict() for record in outcome.alerts],
                }
            )
        else:
            render_report(outcome, mode, wide=wide)
    # After the context closed, so the telemetry sink has flushed before the process ends.
    raise typer.Exit(outcome.report.exit_code(mode))
