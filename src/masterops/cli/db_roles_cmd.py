"""``ops db roles apply``: PostgreSQL roles, grants and Row Level Security policies."""

from __future__ import annotations

from typing import Annotated

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import print_json

app = typer.Typer(
    help="PostgreSQL roles, grants and Row Level Security (docs/security.md).",
    no_args_is_help=True,
)


@app.command("apply")
def apply_roles(
    print_only: Annotated[
        bool,
        typer.Option(
            "--print", help="Print the SQL (for a DBA or Supabase's SQL editor); run nothing."
        ),
    ] = False,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Role names start with this, e.g. masterops_app.")
    ] = "masterops",
    members: Annotated[
        list[str] | None,
        typer.Option(
            "--member",
            help="KIND=LOGIN: make an existing login role a member (KIND: owner, app, "
            "readonly, webhook, analyst or reader:<business>). Repeatable.",
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Create the roles (NOLOGIN, no passwords), grants and policies; safe to run again.

    Run it after every `ops db upgrade`: a new table gets its policies from it.
    """
    from masterops.db import roles

    pairs = []
    for member in members or []:
        kind, sep, login = member.partition("=")
        if not sep or not login.strip():
            raise UsageError(f"--member {member!r}: expected KIND=LOGIN, e.g. app=deploy")
        pairs.append((kind.strip(), login.strip()))
    try:
        names = roles.RoleNames(prefix)
        for kind, _login in pairs:
            roles.member_role(names, kind)
    except roles.RolesError as exc:
        raise UsageError(str(exc)) from None
    with command_context(json_output) as ctx:
        engine = ctx.database()
        if engine.dialect.name != "postgresql":
            raise UsageError(
                "roles and Row Level Security need PostgreSQL; on SQLite whoever can open "
                "the file can do everything (docs/security.md)"
            )
        businesses = sorted(ctx.config.businesses)
        with engine.begin() as conn:
            try:
                plan = roles.plan(roles.read_schema(conn), names, businesses, members=pairs)
            except roles.RolesError as exc:
                raise UsageError(str(exc)) from None
            if not print_only:
                roles.apply(conn, plan)
                missing = roles.tables_without_policies(conn)
        if print_only:
            typer.echo("BEGIN;")
            for statement in plan:
                typer.echo(statement if statement.startswith("--") else f"{statement};")
            typer.echo("COMMIT;")
            return
        groups = [names.role(k) for k in roles.KINDS] + [names.reader(b) for b in businesses]
        if json_output:
            print_json(
                {"roles": groups, "statements": len(plan), "tables_without_policies": missing}
            )
            return
        typer.echo(f"applied {len(plan)} statements; roles: {', '.join(groups)}")
        if missing:
            typer.echo(f"warning: tables with RLS and no policy: {', '.join(missing)}")
