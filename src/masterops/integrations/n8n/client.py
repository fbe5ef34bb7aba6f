"""The plumbing every part of the n8n connector shares: the API key, JSON calls and paging.

Facts about the real server (n8n 1.123) that shape it: lists are ``{data, nextCursor}``
with ``nextCursor`` null on the last page; a cursor carries its own limit (which wins
over a ``limit`` sent beside it) but not the filters, which must be sent again.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection, Generator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from masterops.integrations.base import (
    BaseConnector,
    BreakerSettings,
    ConnectorRuntime,
    ErrorCategory,
    IntegrationError,
    LimitSpec,
    RetryPolicy,
    Timeouts,
)

API = "/api/v1"
MAX_PAGE_SIZE = 250


class _ApiKeyAuth(httpx.Auth):
    """Sends ``X-N8N-API-KEY`` on every request. An empty key sends no header, so the
    server's own answer ("header required") is what the caller sees."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._api_key:
            request.headers["X-N8N-API-KEY"] = self._api_key
        yield request


def _page_size(page_size: int) -> int:
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}")
    return page_size


def aware_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class N8nClientBase(BaseConnector):
    """``BaseConnector`` wired for n8n: the API key header, a per-second bucket, JSON
    helpers. The capabilities live in the mixins that ``N8nConnector`` combines.

    One n8n instance often serves several businesses: give them the same ``account``
    (the base URL, say) and they share one rate-limit bucket and one circuit breaker.
    """

    default_limits = {"default": LimitSpec(20, 1.0)}

    def __init__(
        self,
        *,
        business_id: str,
        runtime: ConnectorRuntime,
        base_url: str,
        api_key: str,
        per_second: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts | None = None,
        retry: RetryPolicy | None = None,
        breaker: BreakerSettings | None = None,
        account: str | None = None,
    ) -> None:
        super().__init__(
            business_id=business_id,
            runtime=runtime,
            base_url=base_url.rstrip("/"),
            auth=_ApiKeyAuth(api_key),
            timeouts=timeouts,
            retry=retry,
            limits={"default": LimitSpec(per_second, 1.0)},
            breaker=breaker,
            transport=transport,
            secrets=[api_key],
            account=account,
        )

    # -- plumbing ----------------------------------------------------------------------

    async def _json(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        path_params: Mapping[str, object] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        retry: RetryPolicy | None = None,
        expected_statuses: Collection[int] = (),
    ) -> Any:
        response = await self.request(
            method,
            API + path,
            path_params=path_params,
            params=params,
            json=json,
            operation=operation,
            retry=retry,
            expect_json=True,
            expected_statuses=expected_statuses,
        )
        return response.json() if response.content.strip() else None

    async def _pages(
        self, path: str, *, operation: str, params: Mapping[str, Any], page_size: int
    ) -> AsyncGenerator[list[Any], None]:
        """Each page's ``data``, following ``nextCursor`` until it is null.

        The first request sets ``limit``; later ones send the cursor (which carries the
        limit and wins over one sent beside it) and the filters again.
        """
        query: dict[str, Any] = {**params, "limit": _page_size(page_size)}
        while True:
            page = await self._json("GET", path, operation=operation, params=query)
            data = page.get("data") if isinstance(page, dict) else None
            yield list(data or [])
            cursor = page.get("nextCursor") if isinstance(page, dict) else None
            if not cursor:
                return
            if cursor == query.get("cursor"):
                # The same page again would loop forever: a broken server or proxy cache.
                raise IntegrationError(
                    "the server returned the cursor it was given; stopping to avoid a loop",
                    category=ErrorCategory.SERVER,
                    service=self.service,
                    operation=operation,
                    endpoint=API + path,
                )
            query = {**params, "cursor": cursor}
