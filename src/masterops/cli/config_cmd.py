"""``ops config show|check``."""

from __future__ import annotations

from typing import Any

import typer

from masterops.cli.errors import CommandFailed
from masterops.cli.options import JsonOpt, command_context
from masterops.cli.output import print_json, print_mapping, print_table
from masterops.config import Config, mask_url
from masterops.operations.context import AppContext

app = typer.Typer(help="Show and check the effective configuration.", no_args_is_help=True)


def _mask(value: Any) -> str | None:
    return None if value is None else "***"


def effective(config: Config) -> dict[str, Any]:
    """The configuration as a plain mapping, every secret masked."""
    return {
        "mode": f"sandbox (state in {config.sandbox_state})" if config.sandbox else "live",
        "home": str(config.home),
        "database_url": mask_url(config.database_url.get_secret_value()),
        "config_file": str(config.config_file) if config.config_file else None,
        "log_json": config.log_json,
        "log_level": config.log_level,
        "slack_webhook_url": _mask(config.slack_webhook_url),
        "smtp": {
            "host": config.smtp_host,
            "port": config.smtp_port,
            "user": config.smtp_user,
            "password": _mask(config.smtp_password),
            "from": config.smtp_from,
        },
        "supabase": {"url": config.supabase_url, "key": _mask(config.supabase_key)},
        "businesses": {
            b.slug: {
                "name": b.name,
                "services": list(b.services),
                "customers_as": b.customers_as,
                "hubspot": {"token": "***", "tier": b.hubspot.tier} if b.hubspot else None,
                "unleashed": {
                    "api_id": b.unleashed.api_id,
                    "api_key": "***",
                    "url": b.unleashed.base_url,
                }
                if b.unleashed
                else None,
                "n8n": {"url": b.n8n.url, "api_key": "***"} if b.n8n else None,
                "disabled": b.disabled,
            }
            for b in config.businesses.values()
        },
        "limits": config.limits.model_dump(),
        "schedules": config.schedules.model_dump(),
        "alerts": config.alerts.model_dump(),
    }


@app.command("show")
def show(json_output: JsonOpt = False) -> None:
    """Print the effective configuration; secrets are masked."""
    with command_context(json_output) as ctx:
        data = effective(ctx.config)
        if json_output:
            print_json(data)
            return
        flat = {k: v for k, v in data.items() if not isinstance(v, dict)}
        print_mapping(flat, title="Master-Ops configuration")
        rows = []
        for slug, b in data["businesses"].items():
            for service in b["services"]:
                creds = b.get(service)
                rows.append(
                    {
                        "business": slug,
                        "service": service,
                        "status": "configured" if creds else "disabled",
                        "detail": (creds or {}).get("tier")
                        or (creds or {}).get("url")
                        or b["disabled"].get(service, ""),
                    }
                )
        print_table(rows, title="Services")


@app.command("check")
def check(json_output: JsonOpt = False) -> None:
    """Validate the configuration and the database URL; name each problem and its fix."""
    from masterops.db.engine import DatabaseURLError, normalize_url

    with command_context(json_output) as ctx:
        config = ctx.config
        problems = list(config.problems)
        try:
            normalize_url(config.database_url.get_secret_value())
        except DatabaseURLError as exc:
            problems.append(f"MASTEROPS_DATABASE_URL: {exc}")
        warnings = [] if problems else _database_role_warnings(ctx)
        notes = []
        if config.sandbox:
            notes.append("no service credentials are set: commands run against the sandbox")
        else:
            for b in config.businesses.values():
                for service, fix in b.disabled.items():
                    notes.append(f"{b.slug}/{service} is disabled: {fix}")
        if json_output:
            print_json(
                {"ok": not problems, "problems": problems, "warnings": warnings, "notes": notes}
            )
        else:
            for note in notes:
                typer.echo(f"note: {note}")
            for warning in warnings:
                typer.echo(f"warning: {warning}")
            for problem in problems:
                typer.echo(f"problem: {problem}")
            if not problems:
                typer.echo("configuration OK")
        if problems:
            raise CommandFailed(f"{len(problems)} configuration problem(s)")


def _database_role_warnings(ctx: AppContext) -> list[str]:
    """On PostgreSQL: whether the platform connects as a superuser, a BYPASSRLS role or
    the tables' owner (``db/roles.py``); a database it cannot reach is said, not fatal."""
    from sqlalchemy.exc import SQLAlchemyError

    from masterops.db.roles import connection_warnings

    engine = ctx.engine
    if engine.dialect.name != "postgresql":
        return []
    try:
        with engine.connect() as conn:
            return connection_warnings(conn)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return [f"could not check the database role: {reason}"]
