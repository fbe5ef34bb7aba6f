"""``ops export NAME``: a table or view streamed out as CSV or JSON Lines."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, command_context


def export(
    name: Annotated[str, typer.Argument(metavar="TABLE|VIEW", help="What to export.")],
    fmt: Annotated[
        str, typer.Option("--format", help="csv, or json (JSON Lines: one object a line).")
    ] = "csv",
    since: Annotated[
        str | None,
        typer.Option(help="Only rows from this time on: an age (7d, 12h) or an ISO time."),
    ] = None,
    business: BusinessOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Stream every row (constant memory, however many) of a table or summary view."""
    from masterops.operations.businesses import check_business
    from masterops.operations.reports import export_relation
    from masterops.reports.export import check_name
    from masterops.timeparse import parse_instant

    try:
        check_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    start = None
    if since is not None:
        try:
            start = parse_instant(since)
        except ValueError as exc:
            raise UsageError(f"--since: {exc}") from None
    if output is not None and output.is_dir():
        raise UsageError(f"--output {output} is a folder; name a file")
    with command_context(json_output) as ctx, ExitStack() as stack:
        check_business(ctx.config, business)
        engine = ctx.database()
        out: IO[str]
        if output is None:
            out = sys.stdout
        else:
            try:
                out = stack.enter_context(output.open("w", encoding="utf-8", newline=""))
            except OSError as exc:
                raise UsageError(f"--output {output}: {exc.strerror or exc}") from None
        count = export_relation(engine, name, fmt, out, since=start, business=business)
    summary = f"exported {count} row(s) of {name}" + (f" to {output}" if output else "")
    if output is not None:
        typer.echo(summary, err=json_output)
    else:
        typer.echo(summary, err=True)
