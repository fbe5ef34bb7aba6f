"""``ops report daily|weekly``: a business's report, printed or sent."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, command_context
from masterops.cli.output import print_json

FORMATS = ("text", "html", "json", "csv")


def report(
    kind: Annotated[str, typer.Argument(metavar="KIND", help="daily or weekly.")],
    business: BusinessOpt = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="The (last) local day reported, YYYY-MM-DD; default yesterday, the last "
            "complete day in each business's time zone.",
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="text, html, json or csv.")] = "text",
    send: Annotated[
        bool,
        typer.Option(
            "--send", help="Email it (to reports.email_to) and post a Slack summary as well."
        ),
    ] = False,
    json_output: JsonOpt = False,
) -> None:
    """Orders, top products, low stock, new customers, sync and workflow health, errors and
    API quotas of each business (or one) over a local day or week."""
    from masterops.operations.reports import build_reports, check_kind, parse_day, send_reports
    from masterops.reports.render import render

    check_kind(kind)
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    last_day = parse_day(day)
    with command_context(json_output) as ctx:
        reports = build_reports(ctx.config, ctx.database(), kind, business=business, day=last_day)
        sent = send_reports(ctx.config, reports) if send else None
    if json_output:
        data: dict[str, object] = {"reports": [r.to_dict() for r in reports]}
        if sent is not None:
            data["sent"] = {"channels": list(sent.channels), "emails": sent.emails}
        print_json(data)
        return
    sys.stdout.write(render(reports, fmt))  # type: ignore[arg-type]
    if sent is not None:
        typer.echo(
            f"sent: {', '.join(sent.channels)}"
            + (f" ({sent.emails} email(s) to {', '.join(sent.recipients)})" if sent.emails else ""),
            err=True,
        )
