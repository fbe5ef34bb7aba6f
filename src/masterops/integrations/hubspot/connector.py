"""``HubSpotConnector``: one business's HubSpot portal, through a private app token.

It combines the operation groups (objects and merge, batch, search, associations v4 and
v3, association labels, properties and property groups, pipelines, owners),
sizes its rate-limit buckets from the portal's tier, reads HubSpot's daily allowance from
every answer, and proves the token works with one cheap read (``probe``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator, Mapping
from datetime import UTC, tzinfo
from typing import Any

import httpx

from masterops.integrations.base import (
    BreakerSettings,
    ConnectorRuntime,
    RateLimitInfo,
    RetryPolicy,
    Timeouts,
)
from masterops.integrations.hubspot.associations_v3 import AssociationV3Operations
from masterops.integrations.hubspot.batch import BatchOperations
from masterops.integrations.hubspot.groups import PropertyGroupOperations
from masterops.integrations.hubspot.labels import AssociationLabelOperations
from masterops.integrations.hubspot.merge import MergeOperations
from masterops.integrations.hubspot.objects import OBJECTS, ObjectOperations
from masterops.integrations.hubspot.owners import OwnerOperations
from masterops.integrations.hubspot.pipelines import PipelineOperations
from masterops.integrations.hubspot.properties import PropertyOperations
from masterops.integrations.hubspot.ratelimits import (
    DailyAllowance,
    bucket_limits,
    policy_name,
    seconds_until_midnight,
)
from masterops.integrations.hubspot.search import SearchOperations
from masterops.observability.events import LogEvent


class _BearerToken(httpx.Auth):
    """Puts the token in the Authorization header of each request, and nowhere else."""

    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self._header
        yield request


class HubSpotConnector(
    ObjectOperations,
    MergeOperations,
    BatchOperations,
    SearchOperations,
    AssociationV3Operations,  # v4 associations and, beside them, v3's batch endpoints
    AssociationLabelOperations,
    PropertyOperations,
    PropertyGroupOperations,
    PipelineOperations,
    OwnerOperations,
):
    """HubSpot CRM v3/v4 for one business.

    ``tier`` sizes the burst bucket: starter/free 100, professional/enterprise 190,
    limit_pack 250 calls per 10 s; search calls draw on their own bucket of
    ``search_per_second``. ``account_timezone`` is where the daily allowance resets at
    midnight (UTC unless the portal says otherwise); ``batch_concurrency`` is how many
    chunks of one batch call run at once. Constructing one opens nothing::

        async with HubSpotConnector(business_id="teelixir", runtime=runtime,
                                    token=token, tier="professional") as hubspot:
            outcomes = await hubspot.batch_upsert("contacts", rows, id_property="email")
    """

    service = "hubspot"

    def __init__(
        self,
        *,
        business_id: str,
        runtime: ConnectorRuntime,
        token: str,
        tier: str = "starter",
        search_per_second: int = 5,
        base_url: str = "https://api.hubapi.com",
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerSettings | None = None,
        account: str | None = None,
        account_timezone: tzinfo = UTC,
        batch_concurrency: int = 4,
    ) -> None:
        if batch_concurrency < 1:
            raise ValueError(f"batch_concurrency must be at least 1, got {batch_concurrency}")
        super().__init__(
            business_id=business_id,
            runtime=runtime,
            base_url=base_url,
            auth=_BearerToken(token),
            timeouts=timeouts,
            retry=retry,
            limits=bucket_limits(tier, search_per_second),
            breaker=breaker,
            transport=transport,
            secrets=[token],
            account=account,
        )
        self.tier = tier
        self.account_timezone = account_timezone
        self.batch_concurrency = batch_concurrency
        self._daily = DailyAllowance()

    # -- rate limits ---------------------------------------------------------------------

    @property
    def daily_remaining(self) -> int | None:
        """Calls left today as HubSpot last reported (None before any answer said)."""
        return self._daily.remaining

    @property
    def daily_limit(self) -> int | None:
        """The daily allowance HubSpot last reported."""
        return self._daily.limit

    def rate_limit_info(self, response: httpx.Response) -> RateLimitInfo:
        """The base's reading of ``X-HubSpot-RateLimit-*`` plus the daily allowance.

        A 429 for the DAILY policy asks to wait until midnight in the account's time zone:
        past any retry deadline, so the call fails at once with ``RATE_LIMIT``, and both
        buckets pause until then, so later calls fail without being sent.
        """
        info = super().rate_limit_info(response)
        if self._daily.observe(response.headers):
            self._warn_daily_low()
        if response.status_code == 429 and policy_name(response) == "DAILY":
            self._daily.exhausted()
            wait = seconds_until_midnight(self.runtime.clock.now(), self.account_timezone)
            for name in ("default", "search"):
                self.bucket(name).pause(wait)
            info = dataclasses.replace(info, retry_after=max(wait, info.retry_after or 0.0))
        return info

    def _warn_daily_low(self) -> None:
        remaining, limit = self._daily.remaining, self._daily.limit
        self.runtime.hub.emit(
            LogEvent(
                source="integration",
                service=self.service,
                operation="rate_limit",
                level="warn",
                message=(
                    f"HubSpot daily API allowance is low: {remaining} of {limit} calls left "
                    "until midnight"
                ),
                status="daily_limit_low",
                details={"daily_remaining": remaining, "daily_limit": limit},
                business_id=self.business_id,
                created_at=self.runtime.clock.now(),
            )
        )

    # -- health --------------------------------------------------------------------------

    async def probe(self) -> Mapping[str, Any] | None:
        """Read one contact: proves the token, the contacts read scope and the service."""
        await self.request(
            "GET",
            OBJECTS,
            path_params={"type": "contacts"},
            params={"limit": 1},
            operation="health_probe",
            expect_json=True,
        )
        details: dict[str, Any] = {"tier": self.tier}
        if self._daily.remaining is not None:
            details["daily_remaining"] = self._daily.remaining
        if self._daily.limit is not None:  # with the remainder: the quota alert's reading
            details["daily_limit"] = self._daily.limit
        return details
