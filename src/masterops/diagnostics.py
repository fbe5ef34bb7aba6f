"""``ops test SERVICE``: a service's health probe and a few read calls, step by step.

Each step records whether it worked, how long it took, what it found and, when it
failed, the connector's error (category, status, message: already redacted).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from masterops.integrations.base import BaseConnector, IntegrationError
from masterops.integrations.supabase import database_health


@dataclass
class Step:
    name: str
    ok: bool
    duration_ms: float
    summary: str
    error: dict[str, Any] | None = None


@dataclass
class ServiceTest:
    service: str
    business_id: str
    steps: list[Step] = field(default_factory=list)
    disabled: str | None = None

    @property
    def ok(self) -> bool:
        return self.disabled is None and all(step.ok for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "business_id": self.business_id,
            "ok": self.ok,
            "disabled": self.disabled,
            "steps": [step.__dict__ for step in self.steps],
        }


async def _step(test: ServiceTest, name: str, call: Callable[[], Awaitable[str]]) -> None:
    start = time.perf_counter()
    try:
        summary = await call()
        ok, error = True, None
    except IntegrationError as exc:
        summary, ok, error = str(exc), False, exc.to_dict()
    except ValueError as exc:  # a malformed answer the models refused
        summary, ok, error = f"unexpected answer: {exc}", False, {"category": "UNKNOWN"}
    test.steps.append(
        Step(name, ok, round((time.perf_counter() - start) * 1000, 2), summary, error)
    )


async def _health_step(test: ServiceTest, connector: BaseConnector) -> None:
    start = time.perf_counter()
    result = await connector.health()
    ok = result.status in ("healthy", "degraded")
    error = None if ok else dict(result.details.get("error") or {"message": result.message})
    test.steps.append(
        Step(
            "health probe",
            ok,
            round((time.perf_counter() - start) * 1000, 2),
            f"{result.status}: {result.message}",
            error,
        )
    )


async def _hubspot_reads(test: ServiceTest, connector: Any) -> None:
    async def contacts() -> str:
        seen = []
        async for record in connector.iterate("contacts", properties=["email"], page_size=5):
            seen.append(record)
            if len(seen) >= 5:
                break
        return f"{len(seen)} contact(s) on the first page"

    async def properties() -> str:
        return f"{len(await connector.list_properties('contacts'))} contact properties"

    await _step(test, "list contacts", contacts)
    await _step(test, "list contact properties", properties)


async def _unleashed_reads(test: ServiceTest, connector: Any) -> None:
    from masterops.integrations.unleashed import PRODUCTS, WAREHOUSES

    async def warehouses() -> str:
        page = await connector.page(WAREHOUSES, page_size=200)
        return f"{page.pagination.number_of_items} warehouse(s)"

    async def products() -> str:
        page = await connector.page(PRODUCTS, page_size=5)
        return (
            f"{page.pagination.number_of_items} product(s) in "
            f"{page.pagination.number_of_pages} page(s) of 5"
        )

    await _step(test, "list warehouses", warehouses)
    await _step(test, "first page of products", products)


async def _n8n_reads(test: ServiceTest, connector: Any) -> None:
    async def workflows() -> str:
        names = []
        async for workflow in connector.list_workflows(page_size=5):
            names.append(workflow.name)
            if len(names) >= 5:
                break
        return f"{len(names)} workflow(s): {', '.join(names)}" if names else "no workflows"

    async def failures() -> str:
        since = datetime.now(UTC) - timedelta(days=1)
        count = 0
        async for _ in connector.list_executions(status="error", page_size=50, since=since):
            count += 1
        return f"{count} failed execution(s) in the last 24 h"

    await _step(test, "list workflows", workflows)
    await _step(test, "recent failed executions", failures)


READS = {"hubspot": _hubspot_reads, "unleashed": _unleashed_reads, "n8n": _n8n_reads}


async def run_service_test(service: str, business_id: str, connector: BaseConnector) -> ServiceTest:
    """Probe ``connector`` and run its read calls; never raises for a service failure."""
    test = ServiceTest(service, business_id)
    async with connector:
        await _health_step(test, connector)
        await READS[service](test, connector)
    return test


async def run_database_test(engine: Engine) -> ServiceTest:
    test = ServiceTest("database", "platform")
    start = time.perf_counter()
    result = await database_health(engine)
    ok = result.status in ("healthy", "degraded")
    test.steps.append(
        Step(
            "round trip and revision",
            ok,
            round((time.perf_counter() - start) * 1000, 2),
            f"{result.status}: {result.message}",
            None if ok else {"message": result.message},
        )
    )
    return test
