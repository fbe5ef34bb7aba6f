"""``ops db upgrade|downgrade|status|query|prune``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import print_json, print_mapping, print_table

app = typer.Typer(help="Database schema, queries and retention.", no_args_is_help=True)


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    json_output: JsonOpt = False,
) -> None:
    """Apply pending migrations."""
    from masterops.db import migrate
    from masterops.db.engine import describe_url

    with command_context(json_output) as ctx:
        before = migrate.current_revision(ctx.engine)
        after = migrate.upgrade(ctx.engine, revision)
        if json_output:
            print_json({"from": before, "to": after})
        else:
            typer.echo(f"{describe_url(ctx.engine)}: {before or 'empty'} -> {after}")


@app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove all.")],
    json_output: JsonOpt = False,
) -> None:
    """Revert migrations down to REVISION."""
    from masterops.db import migrate
    from masterops.db.engine import describe_url

    with command_context(json_output) as ctx:
        before = migrate.current_revision(ctx.engine)
        after = migrate.downgrade(ctx.engine, revision)
        if json_output:
            print_json({"from": before, "to": after})
        else:
            typer.echo(f"{describe_url(ctx.engine)}: {before} -> {after or 'empty'}")


@app.command("status")
def status(json_output: JsonOpt = False) -> None:
    """Schema revision, pending migrations and row counts."""
    from masterops.db import migrate
    from masterops.db.engine import describe_url

    with command_context(json_output) as ctx:
        st = migrate.schema_status(ctx.engine)
        data = {
            "database": describe_url(ctx.engine),
            "revision": st.revision,
            "head": st.head,
            "pending": st.pending,
            "row_counts": st.row_counts,
        }
        if json_output:
            print_json(data)
            return
        print_mapping(
            {
                "database": data["database"],
                "revision": st.revision or "empty",
                "head": st.head,
                "pending": ", ".join(st.pending) or "none",
            },
            title="Schema",
        )
        print_table([{"table": k, "rows": v} for k, v in st.row_counts.items()], title="Rows")


@app.command("query")
def query(
    table: Annotated[str, typer.Argument(help="A table name, e.g. integration_logs.")],
    filters: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="field=value (repeatable).")
    ] = None,
    limit: Annotated[int, typer.Option(help="Rows at most.")] = 50,
    order: Annotated[str | None, typer.Option(help="Order by field; -field descending.")] = None,
    json_output: JsonOpt = False,
) -> None:
    """Read rows of a known table with exact-match filters (parameterised, read-only)."""
    from masterops.db.queries import query_table

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows = query_table(conn, table, filters or [], limit=limit, order=order)
    if json_output:
        print_json(rows)
    else:
        print_table(rows, title=f"{table} ({len(rows)} rows)")


@app.command("prune")
def prune_cmd(
    older_than: Annotated[str, typer.Option("--older-than", help="Age, e.g. 30d.")] = "30d",
    tables: Annotated[
        list[str] | None, typer.Option("--table", help="Only this log table (repeatable).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Delete log rows older than a given age (integration_logs, api_metrics, ...)."""
    from masterops.db.queries import prune
    from masterops.timeparse import parse_duration

    try:
        age = parse_duration(older_than)
    except ValueError as exc:
        raise UsageError(f"--older-than: {exc}") from None
    cutoff = datetime.now(UTC) - age
    with command_context(json_output) as ctx, ctx.database().begin() as conn:
        deleted = prune(conn, cutoff, tables)
    if json_output:
        print_json({"cutoff": cutoff, "deleted": deleted})
    else:
        print_table(
            [{"table": k, "deleted": v} for k, v in deleted.items()],
            title=f"Pruned rows older than {cutoff:%Y-%m-%d %H:%M} UTC",
        )
