"""One health round: every service of every business, checked concurrently.

The round never raises for one bad service: a missing credential is "disabled" with the
variable to set, and anything else that goes wrong (a connector that cannot be built, a
probe that crashes) is "down" with the reason, so the other checks always complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from sqlalchemy import Engine

from masterops.config import SERVICES, Config
from masterops.health.report import HealthReport
from masterops.integrations.base import (
    BaseConnector,
    ConnectorRuntime,
    HealthResult,
    batch,
)
from masterops.integrations.factory import ServiceDisabled, resilience
from masterops.integrations.supabase import SupabaseRestConnector, database_health
from masterops.observability.redaction import Redactor

#: The business id of checks that belong to the platform rather than to one business.
PLATFORM = "platform"
#: The platform's own services, checked once per round.
PLATFORM_SERVICES = ("database", "supabase")
#: Every service name ``service_filter`` accepts.
KNOWN_SERVICES = (*PLATFORM_SERVICES, *SERVICES)


class ConnectorSource(Protocol):
    """What a round needs to reach the services (``cli.services.Services`` is one)."""

    @property
    def config(self) -> Config: ...

    @property
    def runtime(self) -> ConnectorRuntime: ...

    @property
    def transports(self) -> Mapping[str, httpx.AsyncBaseTransport]: ...

    def connector(self, service: str, business: str) -> BaseConnector:
        """The connector, or ``ServiceDisabled`` saying why there is none."""
        ...


@dataclass(frozen=True, slots=True)
class _Target:
    business_id: str
    service: str


async def run_health_round(
    services: ConnectorSource,
    engine: Engine | None,
    *,
    businesses: Sequence[str] | None = None,
    service_filter: str | None = None,
    concurrency: int = 8,
) -> HealthReport:
    """Check every (business, service) the configuration lists, at most ``concurrency``
    at a time, plus the platform database (when ``engine`` is given) and Supabase REST
    (when ``MASTEROPS_SUPABASE_URL`` and ``..._KEY`` are set).

    ``businesses`` limits the businesses (unknown slugs raise ``ConfigError``); the
    platform checks are kept, since every business depends on them. ``service_filter``
    keeps only that service (``database`` and ``supabase`` are the platform's).
    """
    if service_filter is not None and service_filter not in KNOWN_SERVICES:
        raise ValueError(f"unknown service {service_filter!r}; known: {', '.join(KNOWN_SERVICES)}")
    config = services.config
    redactor = Redactor(config.secrets())
    targets = _targets(config, engine, businesses, service_filter)
    started_at = datetime.now(UTC)

    async def check(target: _Target) -> HealthResult:
        if target.service == "database":
            assert engine is not None  # _targets lists the database only with an engine
            return await database_health(engine, business_id=PLATFORM)
        try:
            connector = _connector(services, target)
        except ServiceDisabled as exc:
            return HealthResult.disabled(
                target.service, target.business_id, redactor.text(str(exc)), datetime.now(UTC)
            )
        async with connector:
            return await connector.health()

    outcomes = await batch(targets, check, concurrency=concurrency, continue_on_error=True)
    results = [
        outcome.value
        if outcome.ok and outcome.value is not None
        else _crashed(outcome.item, outcome.error, redactor)
        for outcome in outcomes
    ]
    return HealthReport.of(
        results, started_at, datetime.now(UTC), services.runtime.breakers.states()
    )


def _targets(
    config: Config,
    engine: Engine | None,
    businesses: Sequence[str] | None,
    service_filter: str | None,
) -> list[_Target]:
    def wanted(service: str) -> bool:
        return service_filter is None or service_filter == service

    targets: list[_Target] = []
    if engine is not None and wanted("database"):
        targets.append(_Target(PLATFORM, "database"))
    if config.supabase_url and config.supabase_key and wanted("supabase"):
        targets.append(_Target(PLATFORM, "supabase"))
    chosen: Iterable[str] = businesses if businesses is not None else config.businesses
    for slug in chosen:
        business = config.business(slug)
        # The configured order of services, so tables read the same every round.
        targets.extend(_Target(slug, s) for s in SERVICES if s in business.services and wanted(s))
    return targets


def _connector(services: ConnectorSource, target: _Target) -> BaseConnector:
    config = services.config
    if target.service == "supabase":
        assert config.supabase_url is not None and config.supabase_key is not None
        return SupabaseRestConnector(
            business_id=PLATFORM,
            runtime=services.runtime,
            base_url=config.supabase_url,
            api_key=config.supabase_key.get_secret_value(),
            transport=services.transports.get("supabase"),
            **resilience(config.limits),
        )
    return services.connector(target.service, target.business_id)


def _crashed(target: _Target, error: Exception | None, redactor: Redactor) -> HealthResult:
    """A check that raised instead of returning a result: "down", with the reason."""
    reason = f"{type(error).__name__}: {error}" if error is not None else "no result"
    return HealthResult(
        service=target.service,
        business_id=target.business_id,
        status="down",
        latency_ms=None,
        message=redactor.text(f"{target.service}: the health check failed: {reason}"),
        checked_at=datetime.now(UTC),
        breaker="unknown",  # the connector, and so its breaker, may not exist
        details={"error": {"category": "unknown", "exception": type(error).__name__}},
    )
