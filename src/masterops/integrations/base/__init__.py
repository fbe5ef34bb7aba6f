"""The integration layer's core: every connector is a ``BaseConnector``.

Everything public is re-exported here; import from ``masterops.integrations.base``.
A connector, in short::

    class N8nConnector(BaseConnector):
        service = "n8n"
        default_limits = {"default": LimitSpec(20, 1.0)}

        def __init__(self, *, api_key: str, base_url: str, **kwargs: Any) -> None:
            super().__init__(
                base_url=base_url, auth=ApiKeyAuth(api_key), secrets=[api_key], **kwargs
            )

        async def probe(self) -> Mapping[str, Any] | None:
            await self.request("GET", "/api/v1/workflows", params={"limit": 1},
                               operation="health_probe")
            return None

    runtime = ConnectorRuntime()          # one per process, shared by every connector
    async with N8nConnector(api_key=key, base_url=url, business_id="teelixir",
                            runtime=runtime) as n8n:
        result = await n8n.health()
"""

from masterops.integrations.base.batching import BatchResult, batch
from masterops.integrations.base.breaker import (
    BreakerRegistry,
    BreakerSettings,
    BreakerState,
    CircuitBreaker,
)
from masterops.integrations.base.call_limit import CallLimit
from masterops.integrations.base.clock import Clock, FakeClock, RealClock
from masterops.integrations.base.connector import BaseConnector, Timeouts
from masterops.integrations.base.errors import (
    CircuitOpenError,
    ErrorCategory,
    IntegrationError,
)
from masterops.integrations.base.health import (
    SEVERITY,
    HealthResult,
    HealthSettings,
    HealthStatus,
)
from masterops.integrations.base.limiter import LimiterRegistry, LimitSpec, TokenBucket
from masterops.integrations.base.retry import RetryDecision, RetryPolicy, decide
from masterops.integrations.base.runtime import ConnectorRuntime
from masterops.integrations.base.telemetry import (
    RateLimitInfo,
    parse_rate_limit_headers,
    parse_retry_after,
    render_path,
)

__all__ = [
    "SEVERITY",
    "BaseConnector",
    "BatchResult",
    "BreakerRegistry",
    "BreakerSettings",
    "BreakerState",
    "CallLimit",
    "CircuitBreaker",
    "CircuitOpenError",
    "Clock",
    "ConnectorRuntime",
    "ErrorCategory",
    "FakeClock",
    "HealthResult",
    "HealthSettings",
    "HealthStatus",
    "IntegrationError",
    "LimitSpec",
    "LimiterRegistry",
    "RateLimitInfo",
    "RealClock",
    "RetryDecision",
    "RetryPolicy",
    "Timeouts",
    "TokenBucket",
    "batch",
    "decide",
    "parse_rate_limit_headers",
    "parse_retry_after",
    "render_path",
]
