"""Helpers of the alert tests. (Not named conftest: test folders share one namespace.)"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from masterops.config import AlertRules, Business, Config, HubSpotCredentials, load_config
from masterops.integrations.base import HealthResult

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
TOKEN = "pat-na1-alerts-token-0123456789"
WEBHOOK = "https://hooks.slack.com/services/T0ALERTS/B0ALERTS/webhookSecretPart42"
SMTP_PASSWORD = "smtp-pass-word-31337"


def result(
    status: str,
    *,
    business: str = "teelixir",
    service: str = "hubspot",
    at: datetime = T0,
    message: str | None = None,
) -> HealthResult:
    if status == "disabled":
        return HealthResult.disabled(service, business, "set MASTEROPS_X", at)
    return HealthResult(
        service=service,
        business_id=business,
        status=status,  # type: ignore[arg-type]
        latency_ms=5.0,
        message=message or f"{service} answered: {status}",
        checked_at=at,
        breaker="closed",
    )


def make_config(tmp_path: Path, **alerts: Any) -> Config:
    """A configuration whose secrets include a service token, the Slack webhook URL and
    the SMTP password, with the given ``[alerts]`` settings."""
    base = load_config(environ={}, cwd=tmp_path)
    business = Business(
        slug="teelixir",
        name="Teelixir",
        services=("hubspot",),
        hubspot=HubSpotCredentials(SecretStr(TOKEN), "starter"),
    )
    return dataclasses.replace(
        base,
        businesses={"teelixir": business},
        alerts=AlertRules(**({"channels": ("log",)} | alerts)),
        slack_webhook_url=SecretStr(WEBHOOK),
        smtp_password=SecretStr(SMTP_PASSWORD),
    )
