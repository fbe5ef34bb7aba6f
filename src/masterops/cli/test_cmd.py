"""``ops test SERVICE [--business B]``: probe a service and run a few read calls verbosely
(``operations.diagnosis``: every business at once, within ``[limits] diagnosis_timeout_s``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, command_context
from masterops.cli.output import console, print_json
from masterops.config import SERVICES

# The diagnostics and the connectors load when the command runs, not for `ops --help`.
if TYPE_CHECKING:
    from masterops.diagnostics import ServiceTest

TESTABLE = (*SERVICES, "database")


def _render(result: ServiceTest) -> None:
    out = console()
    title = f"[bold]{result.service}[/bold] / {result.business_id}"
    if result.disabled:
        out.print(f"{title}: [yellow]disabled[/yellow] - {result.disabled}")
        return
    deadline = f" [dim](deadline {result.deadline_s:g} s)[/dim]" if result.deadline_s else ""
    out.print(title + deadline)
    for step in result.steps:
        mark = (
            "[green]ok  [/green]"
            if step.ok
            else "[yellow]skip[/yellow]"
            if step.skipped
            else "[red]FAIL[/red]"
        )
        out.print(
            f"  {mark} {step.name:28} {step.duration_ms:8.1f} ms  {escape(step.summary)}",
            highlight=False,
        )


def test(
    service: Annotated[str, typer.Argument(help="hubspot, unleashed, n8n or database.")],
    business: BusinessOpt = None,
    json_output: JsonOpt = False,
) -> None:
    """Run a service's probe and a few read calls for each business, verbosely."""
    from masterops.diagnostics import run_database_test
    from masterops.operations.businesses import select_businesses
    from masterops.operations.diagnosis import diagnose

    if service not in TESTABLE:
        raise UsageError(f"unknown service {service!r}; use one of {', '.join(TESTABLE)}")
    with command_context(json_output) as ctx:
        engine = ctx.database()
        if service == "database":
            results = [asyncio.run(run_database_test(engine))]
        else:
            slugs = [b.slug for b in select_businesses(ctx.config, business)]
            with ctx.services() as services:
                deadline = ctx.config.limits.diagnosis_timeout_s
                results = asyncio.run(diagnose(services, service, slugs, deadline))
        if json_output:
            print_json([r.to_dict() for r in results])
        else:
            for result in results:
                _render(result)
        failed = [r for r in results if r.disabled is None and not r.ok]
        if failed:
            names = ", ".join(f"{r.business_id}" for r in failed)
            raise CommandFailed(f"{service} failed for {names}")
        if all(r.disabled for r in results):
            raise CommandFailed(f"{service} is not configured for any selected business")
