"""``ops test SERVICE``: a service's health probe and a few read calls, step by step.

Each step records whether it worked, how long it took, what it found and, when it
failed, the connector's error (category, status, message: already redacted).

A diagnosis answers within its deadline with the first failure and its cause: the
connector runs ``limited()`` (one attempt per call, one shared deadline, no waiting for an
open circuit breaker), and the steps after the first failure are skipped, naming it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
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
    skipped: str | None = None  # why the step did not run: the earlier failure

    @classmethod
    def skipped_after(cls, name: str, failure: Step) -> Step:
        category = (failure.error or {}).get("category") or "UNKNOWN"
        cause = f"{failure.name} failed ({category})"
        return cls(name, False, 0.0, f"skipped: {cause}", None, cause)


@dataclass
class ServiceTest:
    service: str
    business_id: str
    steps: list[Step] = field(default_factory=list)
    disabled: str | None = None
    deadline_s: float | None = None

    @property
    def first_failure(self) -> Step | None:
        return next((step for step in self.steps if not step.ok), None)

    @property
    def ok(self) -> bool:
        return self.disabled is None and all(step.ok for step in self.steps)

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "business_id": self.business_id,
            "ok": self.ok,
            "disabled": self.disabled,
            "deadline_s": self.deadline_s,
            "steps": [step.__dict__ for step in self.steps],
        }


Check = Callable[[], Awaitable[str]]


class _CheckFailed(Exception):
    """A check that failed without an ``IntegrationError`` (the health probe's verdict)."""

    def __init__(self, summary: str, error: dict[str, Any]) -> None:
        super().__init__(summary)
        self.summary, self.error = summary, error


async def _step(test: ServiceTest, name: str, call: Check) -> None:
    failure = test.first_failure
    if failure is not None:
        test.steps.append(Step.skipped_after(name, failure))
        return
    start = time.perf_counter()
    error: dict[str, Any] | None
    try:
        summary = await call()
        ok, error = True, None
    except IntegrationError as exc:
        summary, ok, error = str(exc), False, exc.to_dict()
    except _CheckFailed as exc:
        summary, ok, error = exc.summary, False, exc.error
    except ValueError as exc:  # a malformed answer the models refused
        summary, ok, error = f"unexpected answer: {exc}", False, {"category": "UNKNOWN"}
    test.steps.append(
        Step(name, ok, round((time.perf_counter() - start) * 1000, 2), summary, error)
    )


def _health_check(connector: BaseConnector) -> Check:
    async def probe() -> str:
        result = await connector.health()
        summary = f"{result.status}: {result.message}"
        if result.status not in ("healthy", "degraded"):
            raise _CheckFailed(
                summary, dict(result.details.get("error") or {"message": result.message})
            )
        return summary

    return probe


def _hubspot_reads(connector: Any) -> Sequence[tuple[str, Check]]:
    async def contacts() -> str:
        seen = []
        async for record in connector.iterate("contacts", properties=["email"], page_size=5):
            seen.append(record)
            if len(seen) >= 5:
                break
        return f"{len(seen)} contact(s) on the first page"

    async def properties() -> str:
        return f"{len(await connector.list_properties('contacts'))} contact properties"

    return [("list contacts", contacts), ("list contact properties", properties)]


def _unleashed_reads(connector: Any) -> Sequence[tuple[str, Check]]:
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

    return [("list warehouses", warehouses), ("first page of products", products)]


def _n8n_reads(connector: Any) -> Sequence[tuple[str, Check]]:
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

    return [("list workflows", workflows), ("recent failed executions", failures)]


READS = {"hubspot": _hubspot_reads, "unleashed": _unleashed_reads, "n8n": _n8n_reads}


async def run_service_test(
    service: str, business_id: str, connector: BaseConnector, *, deadline_s: float
) -> ServiceTest:
    """Probe ``connector`` and run its read calls within ``deadline_s`` seconds in all,
    stopping at the first failure; never raises for a service failure."""
    test = ServiceTest(service, business_id, deadline_s=deadline_s)
    async with connector:
        with connector.limited(deadline_s):
            checks = [("health probe", _health_check(connector)), *READS[service](connector)]
            for name, check in checks:
                await _step(test, name, check)
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
