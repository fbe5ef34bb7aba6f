"""The ``ops`` entry point: every command group, and the guard that keeps tracebacks away."""

from __future__ import annotations

from typing import Annotated

import typer

from masterops import __version__
from masterops.cli import (
    alerts_cmd,
    audit_cmd,
    config_cmd,
    db_cmd,
    events_cmd,
    jobs_cmd,
    sandbox_cmd,
    secrets_cmd,
    stats_cmd,
    sync_cmd,
    tasks_cmd,
    tokens_cmd,
    webhooks_cmd,
    workflows_cmd,
)
from masterops.cli.demo_cmd import demo
from masterops.cli.errors import run_guarded
from masterops.cli.export_cmd import export
from masterops.cli.health_cmd import health
from masterops.cli.logs_cmd import logs
from masterops.cli.report_cmd import report
from masterops.cli.serve_cmd import serve
from masterops.cli.slo_cmd import slo
from masterops.cli.test_cmd import test
from masterops.cli.worker_cmd import worker

app = typer.Typer(
    name="ops",
    help="Master-Ops: keeps Unleashed, HubSpot and n8n in step with one database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(config_cmd.app, name="config")
app.add_typer(db_cmd.app, name="db")
app.add_typer(tasks_cmd.app, name="tasks")
app.add_typer(sync_cmd.app, name="sync")
app.add_typer(workflows_cmd.app, name="workflows")
app.add_typer(webhooks_cmd.app, name="webhooks")
app.add_typer(events_cmd.app, name="events")
app.add_typer(alerts_cmd.app, name="alerts")
app.add_typer(tokens_cmd.app, name="tokens")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(audit_cmd.app, name="audit")
app.add_typer(jobs_cmd.app, name="jobs")
app.command("logs")(logs)
app.add_typer(stats_cmd.app, name="stats")
app.command("slo")(slo)
app.command("report")(report)
app.command("export")(export)
app.command("demo")(demo)
app.add_typer(sandbox_cmd.app, name="sandbox")
app.command("test")(test)
app.command("health")(health)
app.command("worker")(worker)
app.command("serve")(serve)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"masterops {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Master-Ops operations platform."""


def _run_app() -> None:
    # standalone_mode=False: the parser's errors reach run_guarded, which prints them as
    # one line instead of typer's boxed panel; an explicit typer.Exit comes back as a code.
    code = app(standalone_mode=False)
    if isinstance(code, int) and code:
        raise SystemExit(code)


def main() -> None:
    from masterops.db.actor import cli_actor, set_process_actor

    # The audit trail's "who" for this process (``ops worker`` names its worker instead).
    set_process_actor(cli_actor())
    run_guarded(_run_app)
