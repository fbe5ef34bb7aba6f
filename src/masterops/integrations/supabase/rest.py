"""Supabase's REST endpoint (PostgREST): reachability and key validity.

PostgREST takes the key twice, as ``apikey`` and as a bearer token; errors are
``{code, details, hint, message}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    LimitSpec,
    RetryPolicy,
    Timeouts,
)


class SupabaseRestConnector(BaseConnector):
    service = "supabase"
    default_limits = {"default": LimitSpec(50, 1.0)}

    def __init__(
        self,
        *,
        business_id: str,
        runtime: ConnectorRuntime,
        base_url: str,
        api_key: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerSettings | None = None,
    ) -> None:
        super().__init__(
            business_id=business_id,
            runtime=runtime,
            base_url=base_url.rstrip("/"),
            headers={"apikey": api_key, "Authorization": f"Bearer {api_key}"},
            secrets=[api_key],
            transport=transport,
            timeouts=timeouts,
            retry=retry,
            breaker=breaker,
            account=base_url,
        )

    async def probe(self) -> Mapping[str, Any] | None:
        # The root answers the OpenAPI description only to a valid key.
        response = await self.request("GET", "/rest/v1/", operation="health_probe")
        return {"status": response.status_code}

    async def select(
        self, table: str, *, filters: Mapping[str, str] | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Rows of ``table``; ``filters`` in PostgREST form, e.g. ``{"level": "eq.error"}``."""
        params: dict[str, Any] = {"limit": limit, **(filters or {})}
        response = await self.request(
            "GET",
            "/rest/v1/{table}",
            path_params={"table": table},
            params=params,
            operation="select",
        )
        body = response.json()
        return list(body) if isinstance(body, list) else []
