"""Building connectors from configuration: one place that maps settings to arguments."""

from __future__ import annotations

import dataclasses
from typing import TypedDict

import httpx
from sqlalchemy import Engine

from masterops.config import Business, Limits
from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    RetryPolicy,
    Timeouts,
)

SERVICES = ("hubspot", "unleashed", "n8n")


class ServiceDisabled(Exception):
    """The business does not use the service, or has no credentials for it."""


class Resilience(TypedDict):
    timeouts: Timeouts
    retry: RetryPolicy
    breaker: BreakerSettings


def resilience(limits: Limits) -> Resilience:
    """Timeouts, retry policy and breaker settings from ``[limits]``."""
    return {
        "timeouts": Timeouts(
            connect=limits.connect_timeout_s, read=limits.timeout_s, total=limits.timeout_s
        ),
        "retry": RetryPolicy(
            max_attempts=limits.retry.max_attempts,
            base_delay=limits.retry.base_delay_s,
            max_delay=limits.retry.max_delay_s,
            deadline=limits.retry.deadline_s,
        ),
        "breaker": BreakerSettings(
            failure_threshold=limits.breaker.failure_threshold,
            cooldown=limits.breaker.cooldown_s,
            success_threshold=limits.breaker.probes_to_close,
        ),
    }


def build_connector(
    service: str,
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    *,
    engine: Engine | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BaseConnector:
    """The connector of ``service`` for ``business``; ``ServiceDisabled`` says why not.

    ``engine`` lets the Unleashed connector count its calls against the monthly quota.
    ``[limits] degraded_latency_ms`` becomes the connector's threshold for a slow probe.
    """
    connector = _build(service, business, runtime, limits, engine=engine, transport=transport)
    connector.health_settings = dataclasses.replace(
        connector.health_settings, degraded_after_ms=limits.degraded_latency_ms
    )
    return connector


def _build(
    service: str,
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    *,
    engine: Engine | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> BaseConnector:
    if service not in SERVICES:
        raise ServiceDisabled(f"unknown service {service!r}; known: {', '.join(SERVICES)}")
    if service not in business.services:
        raise ServiceDisabled(f"{business.slug} does not use {service} (masterops.toml)")
    options = resilience(limits)
    if service == "hubspot":
        from masterops.integrations.hubspot import HubSpotConnector

        if business.hubspot is None:
            raise ServiceDisabled(f"{business.slug}/hubspot: {business.disabled['hubspot']}")
        return HubSpotConnector(
            business_id=business.slug,
            runtime=runtime,
            token=business.hubspot.token.get_secret_value(),
            tier=business.hubspot.tier,
            search_per_second=limits.hubspot_search_per_second,
            base_url=business.hubspot.base_url,
            transport=transport,
            **options,
        )
    if service == "unleashed":
        from masterops.integrations.unleashed import MonthlyQuotaGuard, UnleashedConnector

        creds = business.unleashed
        if creds is None:
            raise ServiceDisabled(f"{business.slug}/unleashed: {business.disabled['unleashed']}")
        quota = (
            MonthlyQuotaGuard(
                engine,
                account=creds.api_id,
                ceiling=limits.unleashed_monthly_ceiling,
                hub=runtime.hub,
            )
            if engine is not None
            else None
        )
        return UnleashedConnector(
            business_id=business.slug,
            runtime=runtime,
            api_id=creds.api_id,
            api_key=creds.api_key.get_secret_value(),
            base_url=creds.base_url,
            quota=quota,
            transport=transport,
            **options,
        )
    from masterops.integrations.n8n import N8nConnector

    if business.n8n is None:
        raise ServiceDisabled(f"{business.slug}/n8n: {business.disabled['n8n']}")
    return N8nConnector(
        business_id=business.slug,
        runtime=runtime,
        base_url=business.n8n.url,
        api_key=business.n8n.api_key.get_secret_value(),
        per_second=limits.n8n_per_second,
        account=business.n8n.url,
        transport=transport,
        **options,
    )
