"""Reading one business's report out of the database: the mirror tables (orders, lines,
products, stock, customers), ``sync_runs``, ``workflow_execution_logs``,
``integration_logs``, ``api_metrics`` and the quota ledger.

Every query is bounded by the period's UTC instants (``Period.start``/``end``), which are
the business's local midnights. Grouping by local day (the trend) is done here in Python
on the few rows of the window: SQL's date functions differ per dialect and know nothing
of the business's time zone. Deleted orders are listed under their status but are not
sales: they count neither in the totals nor in the top products nor as a first order.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, Connection, and_, distinct, func, select

from masterops.db.quota import calls_in_period, period_of
from masterops.db.tables import (
    api_metrics,
    customers,
    integration_logs,
    order_lines,
    orders,
    products,
    stock_levels,
    sync_runs,
    workflow_execution_logs,
)
from masterops.reports.model import (
    Customers,
    DayCount,
    LowStock,
    Orders,
    QuotaUse,
    Report,
    ServiceErrors,
    StatusCount,
    SyncHealth,
    TopProduct,
    WorkflowHealth,
)
from masterops.reports.periods import Period, local_midnight

#: Order statuses that are not sales.
NOT_SALES = ("Deleted",)
#: n8n execution statuses that count as a failure.
FAILED_EXECUTIONS = ("error", "crashed")
#: HubSpot's daily API limit per tier (reference/api-facts.md).
HUBSPOT_DAILY = {
    "free": 250_000,
    "starter": 250_000,
    "professional": 650_000,
    "enterprise": 1_000_000,
    "limit_pack": 1_000_000,
}
#: Low-stock products listed (the report says how many there are in all).
LOW_STOCK_LISTED = 10


@dataclass(frozen=True)
class ReportInputs:
    """What the report needs from the configuration besides the database."""

    business_id: str
    business_name: str
    low_stock_threshold: float
    top_products: int
    hubspot_tier: str | None  # None: the business does not use HubSpot
    unleashed_account: str | None  # the API id the quota ledger counts under, if known
    unleashed_ceiling: int | None  # None: the business does not use Unleashed


def build_report(
    conn: Connection, inputs: ReportInputs, period: Period, *, now: datetime | None = None
) -> Report:
    """The report of ``inputs.business_id`` over ``period``."""
    b = inputs.business_id
    low, total_low = _low_stock(conn, b, inputs.low_stock_threshold)
    return Report(
        business_id=b,
        business_name=inputs.business_name,
        period=period,
        generated_at=now or datetime.now(UTC),
        low_stock_threshold=inputs.low_stock_threshold,
        orders=_orders(conn, b, period),
        top_products=_top_products(conn, b, period, inputs.top_products),
        low_stock=low,
        low_stock_total=total_low,
        customers=_customers(conn, b, period),
        syncs=_syncs(conn, b, period),
        workflows=_workflows(conn, b, period),
        errors=_errors(conn, b, period),
        quotas=_quotas(conn, inputs, period),
    )


def _in(column: ColumnElement[datetime], start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _orders(conn: Connection, b: str, period: Period) -> Orders:
    o = orders
    by_status = [
        StatusCount(str(status), int(count), round(float(value or 0), 2))
        for status, count, value in conn.execute(
            select(o.c.status, func.count(), func.sum(o.c.total))
            .where(o.c.business_id == b, _in(o.c.order_date, period.start, period.end))
            .group_by(o.c.status)
            .order_by(func.count().desc(), o.c.status)
        )
    ]
    sales = [s for s in by_status if s.status not in NOT_SALES]
    currency = conn.execute(
        select(o.c.currency)
        .where(o.c.business_id == b, o.c.currency.is_not(None))
        .group_by(o.c.currency)
        .order_by(func.count().desc())
        .limit(1)
    ).scalar()
    days = period.trend_days()
    trend_start = local_midnight(days[0], period.zone)
    per_day: dict[date, list[float]] = defaultdict(lambda: [0, 0.0])
    for when, total in conn.execute(
        select(o.c.order_date, o.c.total).where(
            o.c.business_id == b,
            _in(o.c.order_date, trend_start, period.end),
            o.c.status.not_in(NOT_SALES),
        )
    ):
        day = _aware(when).astimezone(period.zone).date()
        per_day[day][0] += 1
        per_day[day][1] += float(total or 0)
    return Orders(
        count=sum(s.count for s in sales),
        value=round(sum(s.value for s in sales), 2),
        currency=currency,
        by_status=tuple(by_status),
        trend=tuple(
            DayCount(d, int(per_day[d][0]), round(per_day[d][1], 2))
            if d in per_day
            else DayCount(d, 0, 0.0)
            for d in days
        ),
    )


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _top_products(conn: Connection, b: str, period: Period, limit: int) -> tuple[TopProduct, ...]:
    o, line, p = orders, order_lines, products
    value = func.coalesce(func.sum(line.c.line_total), 0.0)
    rows = conn.execute(
        select(
            line.c.product_code,
            func.max(p.c.description),
            func.sum(line.c.quantity),
            value,
        )
        .select_from(
            line.join(
                o,
                and_(
                    o.c.business_id == line.c.business_id, o.c.unleashed_guid == line.c.order_guid
                ),
            ).outerjoin(
                p,
                and_(
                    p.c.business_id == line.c.business_id, p.c.unleashed_guid == line.c.product_guid
                ),
            )
        )
        .where(
            line.c.business_id == b,
            _in(o.c.order_date, period.start, period.end),
            o.c.status.not_in(NOT_SALES),
            line.c.product_code.is_not(None),
        )
        .group_by(line.c.product_code)
        .order_by(value.desc(), line.c.product_code)
        .limit(limit)
    )
    return tuple(
        TopProduct(str(code), desc, float(qty or 0), round(float(val or 0), 2))
        for code, desc, qty, val in rows
    )


def _low_stock(conn: Connection, b: str, threshold: float) -> tuple[tuple[LowStock, ...], int]:
    s, p = stock_levels, products
    available = func.sum(s.c.available_qty)
    low = (
        select(
            s.c.product_code,
            func.max(p.c.description).label("description"),
            available.label("available"),
        )
        .select_from(
            s.outerjoin(
                p, and_(p.c.business_id == s.c.business_id, p.c.unleashed_guid == s.c.product_guid)
            )
        )
        .where(s.c.business_id == b, func.coalesce(p.c.is_obsolete, False).is_(False))
        .group_by(s.c.product_guid, s.c.product_code)
        .having(available < threshold)
    ).subquery()
    total = int(conn.execute(select(func.count()).select_from(low)).scalar_one())
    rows = conn.execute(
        select(low.c.product_code, low.c.description, low.c.available)
        .order_by(low.c.available, low.c.product_code)
        .limit(LOW_STOCK_LISTED)
    )
    listed = tuple(LowStock(str(code), desc, float(avail)) for code, desc, avail in rows)
    return listed, total


def _customers(conn: Connection, b: str, period: Period) -> Customers:
    o = orders
    first = (
        select(o.c.customer_guid, func.min(o.c.order_date).label("first_order"))
        .where(
            o.c.business_id == b,
            o.c.customer_guid.is_not(None),
            o.c.status.not_in(NOT_SALES),
        )
        .group_by(o.c.customer_guid)
    ).subquery()
    new = conn.execute(
        select(func.count())
        .select_from(first)
        .join(
            customers,
            and_(customers.c.business_id == b, customers.c.unleashed_guid == first.c.customer_guid),
        )
        .where(_in(first.c.first_order, period.start, period.end))
    ).scalar_one()
    ordering = conn.execute(
        select(func.count(distinct(o.c.customer_guid))).where(
            o.c.business_id == b,
            _in(o.c.order_date, period.start, period.end),
            o.c.status.not_in(NOT_SALES),
        )
    ).scalar_one()
    return Customers(new=int(new), ordering=int(ordering))


def _syncs(conn: Connection, b: str, period: Period) -> tuple[SyncHealth, ...]:
    r = sync_runs
    rows = conn.execute(
        select(r.c.entity, r.c.status, r.c.failed, r.c.error_message)
        .where(r.c.business_id == b, _in(r.c.started_at, period.start, period.end))
        .order_by(r.c.started_at, r.c.id)
    ).all()
    runs: Counter[str] = Counter()
    failed_runs: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    last: dict[str, tuple[str, str | None]] = {}
    for entity, status, failed, error in rows:
        runs[entity] += 1
        failed_runs[entity] += status == "failed"
        refused[entity] += int(failed or 0)
        last[entity] = (status, error)
    return tuple(
        SyncHealth(e, runs[e], failed_runs[e], refused[e], last[e][0], last[e][1])
        for e in sorted(runs)
    )


def _workflows(conn: Connection, b: str, period: Period) -> tuple[WorkflowHealth, ...]:
    w = workflow_execution_logs
    rows = conn.execute(
        select(w.c.workflow_id, w.c.workflow_name, w.c.status, w.c.error_message)
        .where(w.c.business_id == b, _in(w.c.started_at, period.start, period.end))
        .order_by(w.c.started_at, w.c.id)
    ).all()
    totals: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    last_error: dict[str, str | None] = {}
    for workflow_id, name, status, error in rows:
        key = name or workflow_id
        totals[key] += 1
        if status in FAILED_EXECUTIONS:
            failed[key] += 1
            last_error[key] = error
    return tuple(
        WorkflowHealth(k, totals[k], failed[k], last_error.get(k))
        for k in sorted(totals, key=lambda k: (-failed[k], k))
    )


def _errors(conn: Connection, b: str, period: Period) -> tuple[ServiceErrors, ...]:
    log = integration_logs
    rows = conn.execute(
        select(log.c.service, log.c.message)
        .where(
            log.c.business_id == b,
            log.c.level == "error",
            _in(log.c.created_at, period.start, period.end),
        )
        .order_by(log.c.created_at, log.c.id)
    ).all()
    counts: Counter[str] = Counter()
    last: dict[str, str] = {}
    for service, message in rows:
        key = service or "platform"
        counts[key] += 1
        last[key] = message
    return tuple(ServiceErrors(s, n, last.get(s)) for s, n in counts.most_common())


def _quotas(conn: Connection, inputs: ReportInputs, period: Period) -> tuple[QuotaUse, ...]:
    """HubSpot: calls on the period's last local day against the daily limit (HubSpot's
    day is the account's, taken to be the business's zone). Unleashed: calls in the UTC
    month the period ends in, from the quota ledger (or, when the account is not known
    here, e.g. on the sandbox, from the business's recorded calls)."""
    quotas: list[QuotaUse] = []
    m = api_metrics
    if inputs.hubspot_tier is not None:
        day_start = local_midnight(period.last, period.zone)
        used = conn.execute(
            select(func.count()).where(
                m.c.service == "hubspot",
                m.c.business_id == inputs.business_id,
                _in(m.c.created_at, day_start, period.end),
            )
        ).scalar_one()
        limit = HUBSPOT_DAILY.get(inputs.hubspot_tier, HUBSPOT_DAILY["starter"])
        quotas.append(QuotaUse("hubspot", "day", int(used), limit))
    if inputs.unleashed_ceiling is not None:
        last_instant = period.end - timedelta(microseconds=1)
        if inputs.unleashed_account is not None:
            used = calls_in_period(conn, "unleashed", inputs.unleashed_account, at=last_instant)
        else:
            month = period_of(last_instant)
            month_start = datetime(int(month[:4]), int(month[5:]), 1, tzinfo=UTC)
            used = conn.execute(
                select(func.count()).where(
                    m.c.service == "unleashed",
                    m.c.business_id == inputs.business_id,
                    _in(m.c.created_at, month_start, period.end),
                )
            ).scalar_one()
        quotas.append(QuotaUse("unleashed", "month", int(used), inputs.unleashed_ceiling))
    return tuple(quotas)
