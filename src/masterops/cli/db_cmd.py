"""``ops db upgrade|downgrade|status|query|prune`` (and ``roles``: db_roles_cmd.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated

import typer

from masterops.cli import db_roles_cmd
from masterops.cli.errors import UsageError
from masterops.cli.options import (
    DryRunOpt,
    JsonOpt,
    WideOpt,
    YesOpt,
    command_context,
    confirm_destructive,
    limit_option,
    prune_cutoff,
)
from masterops.cli.output import print_json, print_mapping, print_table

if TYPE_CHECKING:
    from sqlalchemy import Engine

# Pruning younger rows is allowed only with --force: the last week's logs are what an
# operator reads when something breaks, and `--older-than 0d` once emptied every log table.
MIN_PRUNE_AGE = timedelta(days=7)

app = typer.Typer(help="Database schema, queries and retention.", no_args_is_help=True)
app.add_typer(db_roles_cmd.app, name="roles")


@app.command("upgrade")
def upgrade(
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    json_output: JsonOpt = False,
) -> None:
    """Apply pending migrations."""
    from masterops.db import migrate
    from masterops.db.engine import describe_url

    try:
        migrate.check_upgrade_target(revision)
    except migrate.RevisionError as exc:
        raise UsageError(f"--revision: {exc}") from None
    with command_context(json_output) as ctx:
        before = migrate.current_revision(ctx.engine)
        after = migrate.upgrade(ctx.engine, revision)
        if json_output:
            print_json({"from": before, "to": after})
        else:
            typer.echo(f"{describe_url(ctx.engine)}: {before or 'empty'} -> {after}")
        _warn_unpoliced(ctx.engine)


def _warn_unpoliced(engine: Engine) -> None:
    """A table with Row Level Security and no policy is readable by superusers only: say
    so on stderr after an upgrade (new tables get their policies from ``roles apply``)."""
    if engine.dialect.name != "postgresql":
        return
    from masterops.db.roles import tables_without_policies

    with engine.connect() as conn:
        missing = tables_without_policies(conn)
    if missing:
        typer.echo(
            f"warning: {len(missing)} table(s) have Row Level Security and no policy "
            f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}): "
            "run `ops db roles apply` (docs/security.md)",
            err=True,
        )


@app.command("downgrade")
def downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision, or 'base' to remove all.")],
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    json_output: JsonOpt = False,
) -> None:
    """Revert migrations down to REVISION (asks first; 'base' drops every table)."""
    from masterops.db import migrate
    from masterops.db.engine import describe_url

    with command_context(json_output) as ctx:
        try:
            reverted = migrate.revisions_to_revert(ctx.engine, revision)
        except migrate.RevisionError as exc:
            raise UsageError(f"REVISION: {exc}") from None
        before = migrate.current_revision(ctx.engine)
        rows = migrate.schema_status(ctx.engine).row_counts if revision == "base" else {}
        where = describe_url(ctx.engine)
        if dry_run:
            revert = [{"revision": r.revision, "what": r.doc} for r in reverted]
            if json_output:
                print_json(
                    {
                        "dry_run": True,
                        "database": where,
                        "from": before,
                        "to": None if revision == "base" else revision,
                        "revert": revert,
                        "rows_dropped": rows,
                    }
                )
            else:
                print_table(revert, title=f"Would revert on {where} (nothing changed)")
                if rows:
                    typer.echo(f"every table would be dropped, with {sum(rows.values())} rows")
            return
        dropping = f"; every table is dropped, with {sum(rows.values())} rows" if rows else ""
        confirm_destructive(
            f"Revert {len(reverted)} migration(s) on {where} "
            f"({', '.join(r.revision for r in reverted)}){dropping}?",
            yes=yes,
        )
        after = migrate.downgrade(ctx.engine, revision)
        if json_output:
            print_json({"from": before, "to": after})
        else:
            typer.echo(f"{where}: {before} -> {after or 'empty'}")


@app.command("status")
def status(json_output: JsonOpt = False, wide: WideOpt = False) -> None:
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
            wide=wide,
        )
        print_table(
            [{"table": k, "rows": v} for k, v in st.row_counts.items()], title="Rows", wide=wide
        )


@app.command("query")
def query(
    table: Annotated[str, typer.Argument(help="A table name, e.g. integration_logs.")],
    filters: Annotated[
        list[str] | None, typer.Option("--filter", "-f", help="field=value (repeatable).")
    ] = None,
    limit: Annotated[int, limit_option("Rows at most.")] = 50,
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
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age, e.g. 30d; under 7d needs --force.")
    ],
    tables: Annotated[
        list[str] | None, typer.Option("--table", help="Only this log table (repeatable).")
    ] = None,
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Allow an age under 7 days.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Delete log rows older than a given age (integration_logs, api_metrics, ...); asks first."""
    from masterops.db.engine import describe_url
    from masterops.db.queries import prunable_counts, prune

    cutoff = prune_cutoff(older_than, MIN_PRUNE_AGE, force=force, dry_run=dry_run, what="rows")
    with command_context(json_output) as ctx:
        engine = ctx.database()
        with engine.connect() as conn:
            counts = prunable_counts(conn, cutoff, tables)
        if dry_run:
            _show_pruned(cutoff, counts, json_output, dry_run=True)
            return
        total = sum(counts.values())
        if total:
            confirm_destructive(
                f"Delete {total} rows older than {cutoff:%Y-%m-%d %H:%M} UTC "
                f"from {describe_url(engine)} "
                f"({', '.join(f'{n} {t}' for t, n in counts.items() if n)})?",
                yes=yes,
            )
        with engine.begin() as conn:
            deleted = prune(conn, cutoff, tables)
    _show_pruned(cutoff, deleted, json_output, dry_run=False)


def _show_pruned(
    cutoff: datetime, counts: dict[str, int], json_output: bool, *, dry_run: bool
) -> None:
    if json_output:
        key = "would_delete" if dry_run else "deleted"
        print_json({"cutoff": cutoff, "dry_run": dry_run, key: counts})
        return
    verb = "Would prune (dry run, nothing deleted)" if dry_run else "Pruned"
    print_table(
        [{"table": k, "would delete" if dry_run else "deleted": v} for k, v in counts.items()],
        title=f"{verb}: rows older than {cutoff:%Y-%m-%d %H:%M} UTC",
    )
