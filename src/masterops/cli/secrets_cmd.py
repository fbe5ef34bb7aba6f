"""``ops secrets check|rotate|retire``: the configured secrets checked and rotated.

``check`` never prints a value: each secret is named by its variable, with what is
wrong with its shape and how long since it changed. ``rotate`` prints the one new
secret it generates (an API token, an order-webhook key), once, for the operator to hand
to whoever needs it; a third-party key is read from a variable or a hidden prompt,
verified with a real call, and only then written.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from masterops.cli.errors import CommandFailed, UsageError
from masterops.cli.options import BusinessOpt, JsonOpt, command_context
from masterops.cli.output import print_json, print_table

app = typer.Typer(
    help="Check the configured secrets, and rotate them with an overlap.", no_args_is_help=True
)
KINDS = ("api-token", "order-webhook", "hubspot-token", "unleashed-key", "n8n-key")
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        help="Write the new value into this .env file (kept mode 0600); without it the "
        "value is printed for you to set.",
    ),
]


@app.command("check")
def check(json_output: JsonOpt = False) -> None:
    """Every configured secret: present, well-formed, its age; .env permissions; refused
    http:// URLs; API tokens about to expire. Exit 1 on a problem."""
    from masterops.operations.secrets import check_secrets

    with command_context(json_output) as ctx:
        report = check_secrets(ctx.config, ctx.database(), datetime.now(UTC))
    if json_output:
        secrets = [
            {
                "variable": c.variable,
                "business": c.business,
                "kind": c.kind,
                "status": c.status,
                "age_days": c.age_days,
                "rotated_at": c.rotated_at,
                "problems": list(c.problems),
            }
            for c in report.checks
        ]
        print_json({"status": report.status, "secrets": secrets, "problems": report.file_problems})
    else:
        rows = [
            {
                "secret": c.variable,
                "business": c.business or "",
                "status": c.status,
                "age (days)": c.age_days,
                "rotated": c.rotated_at,
                "problem": "; ".join(c.problems),
            }
            for c in report.checks
        ]
        if rows:
            print_table(rows, title=f"secrets ({report.status})")
        else:
            typer.echo("no secret is configured: the platform runs against the sandbox")
        for problem in report.file_problems:
            typer.echo(f"problem: {problem}", err=True)
    if report.status == "problem":
        raise typer.Exit(1)


def _overlap(text: str) -> Any:
    from masterops.timeparse import parse_duration

    try:
        return parse_duration(text)
    except (ValueError, OverflowError) as exc:
        raise UsageError(f"--overlap: {exc}") from None


@app.command("rotate")
def rotate(
    kind: Annotated[str, typer.Argument(help=f"What to rotate: {', '.join(KINDS)}.")],
    business: BusinessOpt = None,
    name: Annotated[str | None, typer.Option("--name", help="api-token: the token's name.")] = None,
    overlap: Annotated[
        str,
        typer.Option(
            "--overlap", help="How long the old value keeps working (api-token, order-webhook)."
        ),
    ] = "24h",
    env_file: EnvFileOpt = None,
    from_env: Annotated[
        str | None,
        typer.Option(
            "--from-env",
            help="Third-party keys: read the new value from this variable (else a hidden prompt).",
        ),
    ] = None,
    json_output: JsonOpt = False,
) -> None:
    """Rotate a secret: the platform's own with an overlap; a third-party key verified
    with a real call first."""
    if kind not in KINDS:
        raise UsageError(f"{kind!r} is not one of {', '.join(KINDS)}")
    span = _overlap(overlap)
    now = datetime.now(UTC)
    if kind == "api-token":
        if not name:
            raise UsageError("api-token needs --name (ops tokens list)")
        _rotate_token(name, span, now, json_output)
    elif kind == "order-webhook":
        if business is None:
            raise UsageError("order-webhook needs --business")
        _rotate_order_webhook(business, span, now, env_file, json_output)
    else:
        if business is None:
            raise UsageError(f"{kind} needs --business")
        _rotate_third_party(kind, business, now, env_file, from_env, json_output)


def _rotate_token(name: str, span: Any, now: datetime, json_output: bool) -> None:
    from masterops.operations.secrets import RotationError, rotate_api_token

    with command_context(json_output) as ctx:
        try:
            done = rotate_api_token(ctx.database(), name, overlap=span, now=now)
        except RotationError as exc:
            raise CommandFailed(str(exc)) from None
    if json_output:
        print_json(
            {
                "name": done.name,
                "token": done.token,
                "old_name": done.old_name,
                "old_retires_at": done.old_retires_at,
            }
        )
        return
    typer.echo(done.token)
    typer.echo(
        f"new token {done.name!r} (shown only this once); the old one is now "
        f"{done.old_name!r} and stops working at {done.old_retires_at:%Y-%m-%d %H:%M} UTC",
        err=True,
    )


def _rotate_order_webhook(
    business: str, span: Any, now: datetime, env_file: Path | None, json_output: bool
) -> None:
    from masterops.operations.secrets import RotationError, rotate_order_webhook_secret

    with command_context(json_output) as ctx:
        ctx.config.business(business)
        try:
            done = rotate_order_webhook_secret(
                ctx.config,
                ctx.database(),
                business,
                overlap=span,
                now=now,
                env_file=env_file,
                actor=f"cli:{getpass.getuser()}",
            )
        except RotationError as exc:
            raise CommandFailed(str(exc)) from None
    steps = [
        f"give the new key to the sender of {business}'s orders",
        "restart ops serve: it accepts the old and the new key until "
        f"{done.previous_until:%Y-%m-%d %H:%M} UTC",
        f"then: ops secrets retire order-webhook --business {business} --env-file FILE",
    ]
    if env_file is None:
        steps.insert(
            0,
            f"set {done.variable} to the new key, {done.variable}_PREVIOUS to the old one and "
            f"{done.variable}_PREVIOUS_UNTIL={done.previous_until.isoformat(timespec='seconds')}",
        )
    if json_output:
        print_json(
            {
                "variable": done.variable,
                "value": done.value,
                "previous_until": done.previous_until,
                "env_file": str(env_file) if env_file else None,
                "steps": steps,
            }
        )
        return
    typer.echo(done.value)
    for number, step in enumerate(steps, 1):
        typer.echo(f"{number}. {step}", err=True)


def _rotate_third_party(
    kind: str,
    business: str,
    now: datetime,
    env_file: Path | None,
    from_env: str | None,
    json_output: bool,
) -> None:
    import asyncio

    from masterops.db.secret_records import record_rotation
    from masterops.operations.diagnosis import diagnose
    from masterops.operations.secrets import (
        THIRD_PARTY,
        RotationError,
        third_party_checklist,
        with_new_credential,
        write_env,
    )
    from masterops.operations.services import open_services

    suffix, secret_kind, service = THIRD_PARTY[kind]
    variable = f"MASTEROPS_{business.upper().replace('-', '_')}_{suffix}"
    if from_env is not None:
        value = os.environ.get(from_env, "")
        if not value:
            raise UsageError(f"--from-env {from_env}: the variable is not set")
    else:
        value = getpass.getpass(f"new value of {variable} (not echoed): ")
    if not value.strip():
        raise UsageError("the new value is empty")
    with command_context(json_output) as ctx:
        try:
            trial = with_new_credential(ctx.config, business, kind, value.strip())
        except RotationError as exc:
            raise CommandFailed(str(exc)) from None
        engine = ctx.database()
        with open_services(trial, ctx.hub, engine) as services:
            [result] = asyncio.run(
                diagnose(services, service, [business], trial.limits.diagnosis_timeout_s)
            )
        if not result.ok:
            failure = result.first_failure
            why = result.disabled or (f"{failure.name}: {failure.summary}" if failure else "")
            raise CommandFailed(
                f"the new {service} credential of {business} does not work ({why}); "
                "nothing was changed"
            )
        if env_file is not None:
            write_env(env_file, {variable: value.strip()})
        with engine.begin() as conn:
            record_rotation(
                conn,
                variable=variable,
                kind=secret_kind,
                business_id=business,
                value=value.strip(),
                now=now,
                actor=f"cli:{getpass.getuser()}",
            )
    steps = third_party_checklist(kind, business, variable)
    if json_output:
        print_json({"variable": variable, "verified": True, "steps": steps})
        return
    typer.echo(f"verified: the new {service} credential of {business} works")
    for step in steps:
        typer.echo(step)


@app.command("retire")
def retire(
    kind: Annotated[str, typer.Argument(help="order-webhook")],
    business: BusinessOpt = None,
    env_file: Annotated[
        Path, typer.Option("--env-file", help="The .env file the rotation wrote.")
    ] = Path(".env"),
    json_output: JsonOpt = False,
) -> None:
    """End a rotation's overlap now: the old order-webhook key stops being accepted
    (after ops serve restarts)."""
    from masterops.operations.secrets import retire_previous

    if kind != "order-webhook":
        raise UsageError("only order-webhook keys have an overlap to retire")
    if business is None:
        raise UsageError("order-webhook needs --business")
    if not env_file.is_file():
        raise UsageError(f"--env-file {env_file}: no such file")
    variable = f"MASTEROPS_{business.upper().replace('-', '_')}_ORDER_WEBHOOK_SECRET"
    with command_context(json_output) as ctx:
        ctx.config.business(business)
        retired = retire_previous(variable, env_file)
    if json_output:
        print_json({"variable": variable, "retired": retired})
    elif retired:
        typer.echo(f"{variable}_PREVIOUS removed from {env_file}; restart ops serve")
    else:
        typer.echo(f"{variable}_PREVIOUS is not in {env_file}: nothing to retire")
