"""``ops test`` as an operation: one service diagnosed for several businesses at once,
each within the same short deadline, so the answer comes in about that time even when
every service is unreachable."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from masterops.diagnostics import ServiceTest, run_service_test
from masterops.integrations.factory import ServiceDisabled
from masterops.operations.services import Services


async def diagnose(
    services: Services, service: str, slugs: Sequence[str], deadline_s: float
) -> list[ServiceTest]:
    """A ``ServiceTest`` per business, in ``slugs`` order ("disabled" where the service
    has no credentials for it)."""

    async def one(slug: str) -> ServiceTest:
        try:
            connector = services.connector(service, slug)
        except ServiceDisabled as exc:
            return ServiceTest(service, slug, disabled=str(exc))
        return await run_service_test(service, slug, connector, deadline_s=deadline_s)

    return list(await asyncio.gather(*(one(slug) for slug in slugs)))
