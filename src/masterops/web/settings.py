"""What the HTTP service needs to know, passed in by whoever starts it (never read here)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from masterops.integrations.base import BreakerRegistry
from masterops.observability.prometheus import PrometheusTelemetry

if TYPE_CHECKING:
    from masterops.observability.events import TelemetryHub
    from masterops.operations.jobs import JobQueue
    from masterops.operations.services import Services

MAX_WEBHOOK_BODY = 1024 * 1024  # HubSpot batches at most 100 small events


@dataclass(frozen=True)
class WebSettings:
    """Settings of one ``create_app``.

    ``hubspot_secrets`` maps a business slug to its HubSpot app's client secret (the
    key of the v3 signature); ``hubspot_portals`` maps a HubSpot portal id to the
    business it belongs to; ``order_webhook_secrets`` maps a business slug to the key
    of its own order webhook (``POST /webhooks/orders/<slug>``). With ``trust_proxy``
    the signed URI is rebuilt from ``X-Forwarded-Proto``/``X-Forwarded-Host``: only set
    it behind a proxy that overwrites those headers. ``breakers`` (a runtime's registry)
    adds breaker states to ``/metrics``. ``services`` and ``hub`` (the serving process's
    connectors and telemetry) let an operate token run a health round; without them it
    answers 503. ``order_intake`` (given a business) applies its pending order events:
    the order receiver runs it after storing a new order; without it the scheduled job
    does. ``jobs`` (the platform's job queues) lets it start sync jobs; without it, 503.
    ``timezone`` (an IANA name) is the one zone the dashboard shows times in, and a
    service whose newest check is older than ``stale_after_s`` is marked stale there; one
    live log stream lasts ``log_stream_s`` before the browser reconnects.
    ``now_ms`` is the wall clock in milliseconds and ``monotonic`` a
    monotonic one in seconds (tests move them).
    """

    hubspot_secrets: Mapping[str, str] = field(default_factory=dict)
    hubspot_portals: Mapping[int, str] = field(default_factory=dict)
    order_webhook_secrets: Mapping[str, str] = field(default_factory=dict)
    # A rotated key still accepted beside the new one: business -> (key, until, ms).
    retiring_order_webhook_secrets: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    trust_proxy: bool = False
    max_webhook_body: int = MAX_WEBHOOK_BODY
    signature_max_age_ms: int = 300_000
    breakers: BreakerRegistry | None = None
    telemetry: PrometheusTelemetry | None = None
    services: Services | None = None
    hub: TelemetryHub | None = None
    order_intake: Callable[[str], Awaitable[None]] | None = None
    jobs: JobQueue | None = None
    rate_limit_per_minute: int = 600
    rate_limit_burst: int = 60
    session_lifetime_s: int = 12 * 3600
    timezone: str = "UTC"
    stale_after_s: float = 900.0
    log_stream_s: float = 300.0
    now_ms: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    monotonic: Callable[[], float] = time.monotonic

    def order_webhook_keys(self, business: str) -> list[str]:
        """The keys an order delivery for ``business`` may be signed with now: its own,
        and the one a rotation replaced until that one retires."""
        keys = []
        current = self.order_webhook_secrets.get(business)
        if current is not None:
            keys.append(current)
        retiring = self.retiring_order_webhook_secrets.get(business)
        if retiring is not None and self.now_ms() < retiring[1]:
            keys.append(retiring[0])
        return keys
