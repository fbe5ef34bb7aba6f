"""A report as a typed value, built once (``build.build_report``) and rendered many ways
(``render``): nothing in here reads the database or formats text."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from masterops.reports.periods import Period


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int
    value: float


@dataclass(frozen=True)
class DayCount:
    day: date
    orders: int
    value: float


@dataclass(frozen=True)
class Orders:
    count: int
    value: float
    currency: str | None
    by_status: tuple[StatusCount, ...]
    #: Orders per local day over the trend window (``Period.trend_days``).
    trend: tuple[DayCount, ...]


@dataclass(frozen=True)
class TopProduct:
    product_code: str
    description: str | None
    quantity: float
    value: float


@dataclass(frozen=True)
class LowStock:
    product_code: str
    description: str | None
    available: float


@dataclass(frozen=True)
class Customers:
    #: Customers whose first order falls in the period (the mirror keeps no creation date).
    new: int
    #: Distinct customers who ordered in the period.
    ordering: int


@dataclass(frozen=True)
class SyncHealth:
    entity: str
    runs: int
    failed_runs: int
    #: Items a run refused or failed to write (``sync_runs.failed``).
    refused_items: int
    last_status: str | None
    last_error: str | None


@dataclass(frozen=True)
class WorkflowHealth:
    workflow_name: str
    executions: int
    failed: int
    last_error: str | None

    @property
    def success_rate(self) -> float:
        return 100.0 * (self.executions - self.failed) / self.executions if self.executions else 0


@dataclass(frozen=True)
class ServiceErrors:
    service: str
    errors: int
    last_message: str | None


@dataclass(frozen=True)
class QuotaUse:
    service: str
    window: str  # "day" (HubSpot, the business's local day) or "month" (Unleashed, UTC)
    used: int
    limit: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.limit if self.limit else 0.0


@dataclass(frozen=True)
class Report:
    business_id: str
    business_name: str
    period: Period
    generated_at: datetime
    low_stock_threshold: float
    orders: Orders
    top_products: tuple[TopProduct, ...]
    low_stock: tuple[LowStock, ...]
    #: Every low-stock product, of which ``low_stock`` lists the lowest.
    low_stock_total: int
    customers: Customers
    syncs: tuple[SyncHealth, ...]
    workflows: tuple[WorkflowHealth, ...]
    errors: tuple[ServiceErrors, ...]
    quotas: tuple[QuotaUse, ...] = field(default=())

    @property
    def title(self) -> str:
        return f"{self.business_name} {self.period.kind} report: {self.period.label}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (dates ISO, derived rates included)."""
        data: dict[str, Any] = _plain(dataclasses.asdict(self))
        data["period"] = {
            "kind": self.period.kind,
            "key": self.period.key,
            "timezone": self.period.timezone,
            "first_day": self.period.first.isoformat(),
            "last_day": self.period.last.isoformat(),
            "start": self.period.start.isoformat(),
            "end": self.period.end.isoformat(),
        }
        data["title"] = self.title
        for row, wf in zip(data["workflows"], self.workflows, strict=True):
            row["success_rate_pct"] = round(wf.success_rate, 1)
        for row, quota in zip(data["quotas"], self.quotas, strict=True):
            row["percent"] = round(quota.percent, 1)
        return data


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
