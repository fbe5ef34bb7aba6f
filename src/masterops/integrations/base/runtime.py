"""``ConnectorRuntime``: what every connector of one process shares."""

from __future__ import annotations

import random

from masterops.integrations.base.breaker import BreakerRegistry
from masterops.integrations.base.clock import Clock, RealClock
from masterops.integrations.base.limiter import LimiterRegistry
from masterops.observability.events import TelemetryHub


class ConnectorRuntime:
    """One per process: the telemetry hub, the rate-limit buckets, the circuit breakers,
    the clock and the jitter source.

    Sharing it is what makes limits and breakers per (service, account) rather than per
    connector instance: two ``HubSpotConnector``s for the same portal draw on one bucket.
    Build it once at start-up and pass it to every connector; it holds no connections.
    """

    def __init__(
        self,
        *,
        hub: TelemetryHub | None = None,
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.hub = hub if hub is not None else TelemetryHub()
        self.clock: Clock = clock if clock is not None else RealClock()
        self.rng = rng if rng is not None else random.Random()
        self.limiters = LimiterRegistry(self.clock)
        self.breakers = BreakerRegistry(self.clock, self.hub.emit)
