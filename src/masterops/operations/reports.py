"""The reports and the export as operations: ``ops report``, ``ops export``, the
scheduled reports of ``ops worker`` and the report ``ops demo`` ends with all call these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import IO, TYPE_CHECKING

from masterops.config import Business, Config
from masterops.operations.businesses import select_businesses
from masterops.operations.errors import OperationFailed, UsageError
from masterops.reports.periods import REPORT_KINDS, Period, ReportKind, report_period

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from masterops.reports.build import ReportInputs
    from masterops.reports.model import Report
    from masterops.reports.send import Sent


def report_inputs(config: Config, business: Business) -> ReportInputs:
    from masterops.reports.build import ReportInputs

    tier = None
    if "hubspot" in business.services:
        tier = business.hubspot.tier if business.hubspot else "starter"
    return ReportInputs(
        business_id=business.slug,
        business_name=business.name,
        low_stock_threshold=config.reports.low_stock_threshold,
        top_products=config.reports.top_products,
        hubspot_tier=tier,
        unleashed_account=business.unleashed.api_id if business.unleashed else None,
        unleashed_ceiling=(
            config.limits.unleashed_monthly_ceiling if "unleashed" in business.services else None
        ),
    )


def check_kind(kind: str) -> ReportKind:
    for known in REPORT_KINDS:
        if kind == known:
            return known
    raise UsageError(f"KIND must be one of {', '.join(REPORT_KINDS)}, got {kind!r}")


def parse_day(text: str | None) -> date | None:
    """``--date`` as a local calendar day (YYYY-MM-DD)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--date must be a day as YYYY-MM-DD, got {text!r}") from None


def build_reports(
    config: Config,
    engine: Engine,
    kind: str,
    *,
    business: str | None = None,
    day: date | None = None,
    now: datetime | None = None,
) -> list[Report]:
    """The ``kind`` report of each business (or one) for its local ``day`` (default:
    yesterday in each business's zone)."""
    from masterops.reports.build import build_report

    checked = check_kind(kind)
    moment = now or datetime.now(UTC)
    chosen = select_businesses(config, business)
    periods: list[tuple[Business, Period]] = []
    for b in chosen:
        try:
            periods.append((b, report_period(checked, b.timezone, day=day, now=moment)))
        except ValueError as exc:
            raise UsageError(f"--date: {exc}") from None
    reports = []
    with engine.connect() as conn:
        for b, period in periods:
            reports.append(build_report(conn, report_inputs(config, b), period, now=moment))
    return reports


def send_reports(config: Config, reports: Sequence[Report]) -> Sent:
    """Deliver ``reports`` (email and Slack, as configured); ``OperationFailed`` when a
    channel refuses or none is configured."""
    from masterops.reports.send import DeliveryFailed
    from masterops.reports.send import send_reports as send

    try:
        return send(config, reports)
    except DeliveryFailed as exc:
        raise OperationFailed(f"report not delivered: {exc}") from None


# -- the schedule -------------------------------------------------------------------------


@dataclass(frozen=True)
class DueDelivery:
    """A scheduled report to send now: plain data, a durable workflow's argument."""

    business_id: str
    kind: ReportKind
    last_day: str  # ISO date: the period's last local day
    period: str  # Period.key
    attempt: int

    @property
    def workflow_id(self) -> str:
        """The DBOS workflow id of this delivery: one per (business, kind, period,
        attempt), so two workers starting it start one workflow."""
        return f"report:{self.business_id}:{self.kind}:{self.period}:{self.attempt}"


def due_deliveries(config: Config, engine: Engine, now: datetime) -> list[DueDelivery]:
    """Every scheduled report whose fire time has come and that is not sent yet."""
    from masterops.reports.deliveries import next_attempt
    from masterops.reports.schedule import clock_time, due_period

    if not config.reports.scheduled:
        return []
    at = clock_time(config.reports.daily_at)
    due = []
    with engine.connect() as conn:
        for b in config.businesses.values():
            for kind in REPORT_KINDS:
                found = due_period(
                    kind, now, timezone=b.timezone, at=at, weekly_on=config.reports.weekly_on
                )
                if found is None:
                    continue
                period, _fired = found
                attempt = next_attempt(conn, b.slug, kind, period.key)
                if attempt is not None:
                    due.append(
                        DueDelivery(b.slug, kind, period.last.isoformat(), period.key, attempt)
                    )
    return due


def deliver_scheduled(
    config: Config, engine: Engine, due: DueDelivery, *, claimant: str, now: datetime
) -> dict[str, object]:
    """Claim, build and send one scheduled report, and record how it ended. A claim
    another run holds means "not mine": nothing is sent. A retry sends only the channels
    no earlier attempt delivered to; ``channels`` of the result are those this run
    delivered to, also when another then failed."""
    from masterops.reports.build import build_report
    from masterops.reports.deliveries import claim, finish, record_channel, sent_channels
    from masterops.reports.send import DeliveryFailed
    from masterops.reports.send import send_reports as send

    result: dict[str, object] = {
        "business_id": due.business_id,
        "kind": due.kind,
        "period": due.period,
        "attempt": due.attempt,
    }
    key = (due.business_id, due.kind, due.period)
    delivered: list[str] = []
    if not claim(engine, *key, attempt=due.attempt, claimant=claimant, now=now):
        return {**result, "status": "skipped"}
    try:
        business = config.business(due.business_id)
        period = Period.ending(due.kind, date.fromisoformat(due.last_day), business.timezone)
        with engine.connect() as conn:
            report = build_report(conn, report_inputs(config, business), period, now=now)
            already = sent_channels(conn, *key)

        def record(channel: str) -> None:
            record_channel(engine, *key, claimant=claimant, channel=channel)
            delivered.append(channel)

        send(config, [report], skip=already, on_sent=record)
    except DeliveryFailed as exc:
        finish(engine, *key, claimant=claimant, now=now, error=str(exc))
        return {**result, "status": "failed", "error": str(exc), "channels": delivered}
    except Exception as exc:
        finish(engine, *key, claimant=claimant, now=now, error=f"{type(exc).__name__}: {exc}")
        raise
    finish(engine, *key, claimant=claimant, now=now)
    return {**result, "status": "sent", "channels": delivered}


# -- export -------------------------------------------------------------------------------


def export_relation(
    engine: Engine,
    name: str,
    fmt: str,
    out: IO[str],
    *,
    since: datetime | None = None,
    business: str | None = None,
    chunk_rows: int | None = None,
) -> int:
    """Stream table or view ``name`` into ``out`` as ``fmt``; the number of rows."""
    from masterops.reports.export import (
        CHUNK_ROWS,
        EXPORT_FORMATS,
        WRITERS,
        ExportError,
        stream_rows,
    )

    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
    try:
        with engine.connect() as conn:
            selection, rows = stream_rows(
                conn, name, since=since, business=business, chunk_rows=chunk_rows or CHUNK_ROWS
            )
            return WRITERS[fmt](selection, rows, out)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
