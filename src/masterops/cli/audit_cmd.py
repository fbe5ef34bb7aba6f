"""``ops audit [--table] [--actor] [--since]`` and ``ops audit prune`` (the retention job)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import typer

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
from masterops.cli.output import print_json, print_table

# The audit is kept a year unless told otherwise; under 30 days needs --force.
MIN_AUDIT_AGE = timedelta(days=30)

app = typer.Typer(
    help="Who changed what and when (the audit trail; docs/security.md).",
    invoke_without_command=True,
)


@app.callback()
def audit(
    ctx: typer.Context,
    table: Annotated[str | None, typer.Option(help="Only changes to this table.")] = None,
    actor: Annotated[
        str | None,
        typer.Option(help="Only this actor (cli:alice), or a kind ending in ':' (api:)."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this age (1h) or time (ISO).")] = None,
    limit: Annotated[int, limit_option("Entries at most (newest first).")] = 50,
    json_output: JsonOpt = False,
    wide: WideOpt = False,
) -> None:
    """List audit entries, newest first: when, who, table, operation, row and what changed."""
    if ctx.invoked_subcommand is not None:
        return
    from masterops.db import audit as trail
    from masterops.db.audit_ddl import AUDITED
    from masterops.timeparse import parse_instant

    try:
        start = parse_instant(since) if since is not None else None
    except ValueError as exc:
        raise UsageError(f"--since: {exc}") from None
    if actor is not None and not actor.strip():
        raise UsageError("--actor must not be empty")
    with command_context(json_output) as app_ctx, app_ctx.database().connect() as conn:
        if table is not None:
            known = sorted({*AUDITED, *trail.audited_tables(conn)})
            if table not in known:
                raise UsageError(f"--table {table!r} is not audited; audited: {', '.join(known)}")
        entries = trail.read_entries(conn, table=table, actor=actor, since=start, limit=limit)
    if json_output:
        print_json([e.as_dict() for e in entries])
        return
    print_table(
        [_row(e, wide) for e in entries],
        title=f"Audit ({len(entries)} entries, newest first)",
        empty="no audit entries match",
        wide=wide,
    )


def _row(entry: Any, wide: bool) -> dict[str, Any]:
    changed = entry.changed_columns()
    if entry.operation == "UPDATE":
        what = ", ".join(
            f"{c}: {_short(entry.old.get(c), wide)} -> {_short(entry.new.get(c), wide)}"
            for c in changed
        )
    else:
        what = f"{len(changed)} columns"
    return {
        "when": entry.changed_at,
        "actor": entry.actor,
        "table": entry.table,
        "op": entry.operation,
        "row": entry.row_id,
        "changes": what,
    }


def _short(value: Any, wide: bool) -> str:
    text = "null" if value is None else str(value)
    return text if wide or len(text) <= 30 else text[:29] + "…"


@app.command("prune")
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age, e.g. 365d; under 30d needs --force.")
    ],
    dry_run: DryRunOpt = False,
    yes: YesOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Allow an age under 30 days.")] = False,
    json_output: JsonOpt = False,
) -> None:
    """Delete audit entries older than an age: the retention job, the one way entries go.

    On PostgreSQL only the owner role may run it (connect as a member of it).
    """
    from sqlalchemy import func, select

    from masterops.db import audit as trail
    from masterops.db.tables import audit_log

    cutoff = prune_cutoff(older_than, MIN_AUDIT_AGE, force=force, dry_run=dry_run, what="entries")
    with command_context(json_output) as ctx:
        engine = ctx.database()
        with engine.connect() as conn:
            count = conn.execute(
                select(func.count()).select_from(audit_log).where(audit_log.c.changed_at < cutoff)
            ).scalar_one()
        if not dry_run and count:
            confirm_destructive(
                f"Delete {count} audit entries older than {cutoff:%Y-%m-%d %H:%M} UTC?", yes=yes
            )
            with engine.begin() as conn:
                count = trail.prune(conn, cutoff)
    key = "would_delete" if dry_run else "deleted"
    if json_output:
        print_json({"cutoff": cutoff, "dry_run": dry_run, key: count})
    else:
        verb = "would delete (dry run)" if dry_run else "deleted"
        typer.echo(f"{verb} {count} audit entries older than {cutoff:%Y-%m-%d %H:%M} UTC")
