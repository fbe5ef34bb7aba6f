"""Building connectors from configuration: one place that maps settings to arguments."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar

import httpx
from sqlalchemy import Engine

from masterops.config import SERVICES, Business, Limits
from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    RetryPolicy,
    Timeouts,
)

if TYPE_CHECKING:
    from masterops.integrations.hubspot import HubSpotConnector
    from masterops.integrations.n8n import N8nConnector
    from masterops.integrations.unleashed import UnleashedConnector

C = TypeVar("C", bound=BaseConnector)
T = TypeVar("T")


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
    """The connector of ``service`` (any of ``SERVICES``) for ``business``, for callers
    that treat every service alike (a health round); ``ServiceDisabled`` says why not.
    A caller that needs one service's own calls uses its typed builder below."""
    if service == "hubspot":
        return build_hubspot(business, runtime, limits, transport=transport)
    if service == "unleashed":
        return build_unleashed(business, runtime, limits, engine=engine, transport=transport)
    if service == "n8n":
        return build_n8n(business, runtime, limits, transport=transport)
    raise ServiceDisabled(f"unknown service {service!r}; known: {', '.join(SERVICES)}")


def _credentials(business: Business, service: str, credentials: T | None) -> T:
    """The business's ``credentials`` for ``service``, or ``ServiceDisabled`` saying why
    there are none (the service unused, or the variable that enables it)."""
    if service not in business.services:
        raise ServiceDisabled(f"{business.slug} does not use {service} (masterops.toml)")
    if credentials is None:
        raise ServiceDisabled(f"{business.slug}/{service}: {business.disabled[service]}")
    return credentials


def _shared_arguments(
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    transport: httpx.AsyncBaseTransport | None,
) -> dict[str, Any]:
    """What every connector takes: its business, the process's runtime, the transport
    (the sandbox's, in-process) and the resilience settings of ``[limits]``."""
    return {
        "business_id": business.slug,
        "runtime": runtime,
        "transport": transport,
        **resilience(limits),
    }


def _with_health_threshold(connector: C, limits: Limits) -> C:
    """``[limits] degraded_latency_ms`` becomes the connector's threshold for a slow probe."""
    connector.health_settings = dataclasses.replace(
        connector.health_settings, degraded_after_ms=limits.degraded_latency_ms
    )
    return connector


def build_hubspot(
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> HubSpotConnector:
    """The HubSpot connector of ``business``; ``ServiceDisabled`` says why there is none."""
    from masterops.integrations.hubspot import HubSpotConnector

    creds = _credentials(business, "hubspot", business.hubspot)
    return _with_health_threshold(
        HubSpotConnector(
            token=creds.token.get_secret_value(),
            tier=creds.tier,
            search_per_second=limits.hubspot_search_per_second,
            base_url=creds.base_url,
            **_shared_arguments(business, runtime, limits, transport),
        ),
        limits,
    )


def build_unleashed(
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    *,
    engine: Engine | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> UnleashedConnector:
    """The Unleashed connector of ``business``; with ``engine`` it counts its calls
    against the monthly quota. ``ServiceDisabled`` says why there is none."""
    from masterops.integrations.unleashed import MonthlyQuotaGuard, UnleashedConnector

    creds = _credentials(business, "unleashed", business.unleashed)
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
    return _with_health_threshold(
        UnleashedConnector(
            api_id=creds.api_id,
            api_key=creds.api_key.get_secret_value(),
            base_url=creds.base_url,
            quota=quota,
            **_shared_arguments(business, runtime, limits, transport),
        ),
        limits,
    )


def build_n8n(
    business: Business,
    runtime: ConnectorRuntime,
    limits: Limits,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> N8nConnector:
    """The n8n connector of ``business``; ``ServiceDisabled`` says why there is none."""
    from masterops.integrations.n8n import N8nConnector

    creds = _credentials(business, "n8n", business.n8n)
    return _with_health_threshold(
        N8nConnector(
            base_url=creds.url,
            api_key=creds.api_key.get_secret_value(),
            per_second=limits.n8n_per_second,
            account=creds.url,
            **_shared_arguments(business, runtime, limits, transport),
        ),
        limits,
    )
