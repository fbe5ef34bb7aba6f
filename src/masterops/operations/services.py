"""The services a command talks to: configured ones, or the sandbox started in-process.

With no service credentials configured, ``open_services`` starts the sandbox in this
process, its state kept in the state folder (``Config.sandbox_state``) so the next
command sees what this one did, and points every business at its accounts through
in-process transports;
otherwise it uses the configured credentials and real HTTP. The product touches the
sandbox only here, ``ops sandbox`` and the tests (the layer contracts in
``pyproject.toml`` name this module as the one exception).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine

from masterops.config import (
    SERVICES,
    Business,
    Config,
    ConfigError,
    HubSpotCredentials,
    N8nCredentials,
    UnleashedCredentials,
)
from masterops.integrations.base import BaseConnector, ConnectorRuntime
from masterops.integrations.factory import (
    ServiceDisabled,
    build_connector,
    build_hubspot,
    build_n8n,
    build_unleashed,
)
from masterops.integrations.hubspot import HubSpotConnector
from masterops.integrations.n8n import N8nConnector
from masterops.integrations.unleashed import UnleashedConnector
from masterops.observability.events import TelemetryHub

SANDBOX_URLS = {
    "hubspot": "https://api.hubapi.com",
    "unleashed": "https://api.unleashedsoftware.com",
    "n8n": "http://n8n.sandbox",
}


@dataclass
class Services:
    """Connectors for every (service, business), built on demand."""

    config: Config
    runtime: ConnectorRuntime
    engine: Engine | None
    transports: dict[str, httpx.AsyncBaseTransport] = field(default_factory=dict)
    sandbox: Any = None  # masterops_sandbox.server.Sandbox when running on the sandbox

    @property
    def on_sandbox(self) -> bool:
        return self.sandbox is not None

    def connector(self, service: str, business: str) -> BaseConnector:
        """Any service's connector (for a health round), or ``ServiceDisabled`` naming
        the variable that enables it."""
        return build_connector(
            service,
            self.config.business(business),
            self.runtime,
            self.config.limits,
            engine=self.engine,
            transport=self.transports.get(service),
        )

    def hubspot(self, business: str) -> HubSpotConnector:
        """The business's HubSpot connector, or ``ServiceDisabled``."""
        return build_hubspot(
            self.config.business(business),
            self.runtime,
            self.config.limits,
            transport=self.transports.get("hubspot"),
        )

    def unleashed(self, business: str) -> UnleashedConnector:
        """The business's Unleashed connector (counting the monthly quota in the
        platform database), or ``ServiceDisabled``."""
        return build_unleashed(
            self.config.business(business),
            self.runtime,
            self.config.limits,
            engine=self.engine,
            transport=self.transports.get("unleashed"),
        )

    def n8n(self, business: str) -> N8nConnector:
        """The business's n8n connector, or ``ServiceDisabled``."""
        return build_n8n(
            self.config.business(business),
            self.runtime,
            self.config.limits,
            transport=self.transports.get("n8n"),
        )

    def secrets(self) -> list[str]:
        return self.config.secrets()


def _sandbox_business(business: Business, account: Any, n8n_key: str) -> Business:
    return dataclasses.replace(
        business,
        hubspot=HubSpotCredentials(
            SecretStr(account.hubspot_token),
            account.hubspot_tier,
            SANDBOX_URLS["hubspot"],
            SecretStr(account.hubspot_client_secret),
            account.hubspot_portal_id,
        ),
        unleashed=UnleashedCredentials(
            account.unleashed_api_id,
            SecretStr(account.unleashed_api_key),
            SANDBOX_URLS["unleashed"],
        ),
        n8n=N8nCredentials(SANDBOX_URLS["n8n"], SecretStr(n8n_key)),
        disabled={},
    )


@contextmanager
def open_services(
    config: Config,
    hub: TelemetryHub,
    engine: Engine | None,
    *,
    runtime: ConnectorRuntime | None = None,
    seed: int = 0,
    volume: int = 300,
) -> Iterator[Services]:
    """Services for one command: the configured ones, or the sandbox when none is.
    ``runtime`` (default: a new one on ``hub``) holds the breakers and buckets."""
    runtime = runtime if runtime is not None else ConnectorRuntime(hub=hub)
    if not config.sandbox:
        yield Services(config, runtime, engine)
        return
    # Only here: the sandbox is started, its state kept in the state folder between commands.
    from masterops_sandbox.persist import SandboxStateError, persisted_sandbox

    try:
        with persisted_sandbox(config.sandbox_state, seed=seed, volume=volume) as box:
            businesses = {
                slug: _sandbox_business(b, box.accounts[slug], box.n8n_api_key)
                if slug in box.accounts
                else b
                for slug, b in config.businesses.items()
            }
            effective = dataclasses.replace(config, businesses=businesses)
            transports: dict[str, httpx.AsyncBaseTransport] = {
                service: box.transport(service) for service in SERVICES
            }
            yield Services(effective, runtime, engine, transports, sandbox=box)
    except SandboxStateError as exc:
        raise ConfigError(str(exc)) from None


__all__ = ["ServiceDisabled", "Services", "open_services"]
