"""``ops demo``: everything on this machine, nothing to configure."""

from __future__ import annotations

import typer

from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import print_json, print_table
from masterops.db import migrate
from masterops.db.engine import describe_url
from masterops.registry import sync_businesses


def demo(json_output: JsonOpt = False) -> None:
    """Set up the embedded database, seed the businesses and show what there is."""
    with command_context(json_output) as ctx:
        engine = ctx.database()
        with engine.begin() as conn:
            rows = sync_businesses(conn, ctx.config)
        status = migrate.schema_status(engine)
        report = {
            "database": describe_url(engine),
            "revision": status.revision,
            "mode": "sandbox" if ctx.config.sandbox else "live",
            "businesses": rows,
            "row_counts": status.row_counts,
        }
        if json_output:
            print_json(report)
            return
        typer.echo(f"database {report['database']} at revision {report['revision']}")
        typer.echo(f"mode: {report['mode']}")
        print_table(rows, ("id", "name", "services", "enabled"), title="Businesses")
        print_table([{"table": k, "rows": v} for k, v in status.row_counts.items()], title="Data")
