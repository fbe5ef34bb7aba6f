"""``ops tokens create|list|revoke``: the API tokens ``ops serve`` accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from masterops.cli.errors import UsageError
from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import print_json, print_table

app = typer.Typer(
    help="Create, list and revoke the API tokens of `ops serve`.", no_args_is_help=True
)
SCOPES = ("read", "operate", "admin")
LIST_COLUMNS = ("id", "name", "scope", "businesses", "created_at", "expires_at", "revoked_at")


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", "-n", help="What the token is for.")],
    scope: Annotated[
        str, typer.Option("--scope", help="read, operate (also run actions) or admin.")
    ] = "read",
    business: Annotated[
        list[str] | None,
        typer.Option("--business", "-b", help="Only this business's rows (repeatable)."),
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Lifetime, e.g. 90d (default: none).")
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Create a token. It is shown once, here; only its SHA-256 is stored."""
    from sqlalchemy.exc import IntegrityError

    from masterops.db.api_tokens import create_token
    from masterops.timeparse import parse_duration

    if scope not in SCOPES:
        raise UsageError(f"--scope: {scope!r} is not one of {', '.join(SCOPES)}")
    if not name.strip() or len(name) > 100:
        raise UsageError("--name must be 1 to 100 characters")
    expires_at = None
    if expires is not None:
        try:
            expires_at = datetime.now(UTC) + parse_duration(expires)
        except (ValueError, OverflowError) as exc:
            raise UsageError(f"--expires: {exc}") from None
    with command_context(json_output) as ctx:
        for slug in business or ():
            ctx.config.business(slug)
        try:
            with ctx.database().begin() as conn:
                grant, token = create_token(
                    conn, name=name, scope=scope, businesses=business, expires_at=expires_at
                )
        except IntegrityError:
            raise UsageError(
                f"a token named {name!r} exists; choose another name or revoke it first"
            ) from None
    if json_output:
        print_json({"id": grant.id, "name": name, "scope": scope, "token": token})
        return
    typer.echo(token)
    typer.echo(
        f"token {grant.id} ({name!r}, {scope}) created; it is shown only this once, "
        "so store it now",
        err=True,
    )


@app.command("list")
def list_(json_output: JsonOpt = False) -> None:
    """List the tokens (never the tokens themselves)."""
    from masterops.db.api_tokens import list_tokens

    with command_context(json_output) as ctx, ctx.database().connect() as conn:
        rows: list[dict[str, Any]] = list_tokens(conn)
    if json_output:
        print_json(rows)
        return
    shown = [{**r, "businesses": ", ".join(r["businesses"] or ["(all)"])} for r in rows]
    print_table(shown, columns=LIST_COLUMNS, title="API tokens", empty="no tokens")


@app.command("revoke")
def revoke(
    token: Annotated[str, typer.Argument(help="The token's name or id.")],
) -> None:
    """Revoke a token: it stops working at once."""
    from masterops.db.api_tokens import revoke_token

    with command_context() as ctx, ctx.database().begin() as conn:
        if not revoke_token(conn, token):
            raise UsageError(f"no live token named {token!r}; see `ops tokens list`")
    typer.echo(f"token {token!r} revoked")
