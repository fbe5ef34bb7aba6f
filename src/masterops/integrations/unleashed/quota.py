"""``MonthlyQuotaGuard``: stop calling Unleashed before its monthly call quota runs out.

Unleashed meters every account per calendar month (UTC) and, at 100 %, blocks every request
until 00:00 UTC on the 1st of the next month. Running into that wall blocks every business
process sharing the account for days, so the guard counts our own calls in the database
ledger (``masterops.db.quota``), shared by every process and machine, and refuses a call
*before it is sent* once a configured ceiling (set below the real quota to leave room for
other clients of the account) is reached.

Counting is one atomic upsert per call in its own transaction: if the new total is over the
ceiling the transaction is rolled back, so refused calls are never counted and two
processes can never both take the last unit. Because every committed total is unique, each
warning threshold (90 % and 95 % by default) is crossed by exactly one call per month,
across all processes, and is logged once without any in-memory bookkeeping.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from fractions import Fraction

from sqlalchemy import Engine

from masterops.db.quota import calls_in_period, period_of, record_calls
from masterops.integrations.base import ErrorCategory, IntegrationError
from masterops.observability.events import Level, LogEvent, TelemetryHub


def _utcnow() -> datetime:
    return datetime.now(UTC)


def first_of_next_month(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after ``moment``: when the count starts again."""
    utc = moment.astimezone(UTC)
    year, month = (utc.year + 1, 1) if utc.month == 12 else (utc.year, utc.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def _threshold(fraction: float, ceiling: int) -> tuple[int | float, int]:
    """(percent for messages, the call count that reaches it)."""
    exact = Fraction(str(fraction))  # from the decimal text: 0.9 is 9/10, not 0.9000000000000000222
    percent = exact * 100
    shown = int(percent) if percent.denominator == 1 else float(percent)
    return shown, math.ceil(ceiling * exact)


class _OverCeiling(Exception):
    """Raised inside the counting transaction to roll the increment back."""

    def __init__(self, used: int) -> None:
        super().__init__(used)
        self.used = used


class MonthlyQuotaGuard:
    """Counts calls to one service account per UTC month and refuses them at ``ceiling``.

    ``spend()`` is awaited once per request about to be sent (the connector does it for
    every attempt, retries included, because the service counts each one). ``now`` is
    injectable for tests; it decides the month counted.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        account: str,
        ceiling: int,
        hub: TelemetryHub,
        warn_at: Sequence[float] = (0.90, 0.95),
        now: Callable[[], datetime] = _utcnow,
        service: str = "unleashed",
        business_id: str | None = None,
    ) -> None:
        if ceiling < 1:
            raise ValueError(f"ceiling must be at least 1, got {ceiling}")
        if not account:
            raise ValueError("account is empty")
        for fraction in warn_at:
            if not 0 < fraction < 1:
                raise ValueError(f"warn_at fractions must be between 0 and 1, got {fraction}")
        self.engine = engine
        self.account = account
        self.ceiling = ceiling
        self.service = service
        self.business_id = business_id
        self._hub = hub
        self._now = now
        # Exact call counts per threshold: 0.9 of 15 000 is 13 500, not 13 500.000000000002.
        self.thresholds: tuple[tuple[int | float, int], ...] = tuple(
            sorted({_threshold(fraction, ceiling) for fraction in warn_at})
        )

    @property
    def _name(self) -> str:
        return self.service.capitalize()

    def resets_at(self, moment: datetime | None = None) -> datetime:
        return first_of_next_month(moment or self._now())

    async def used(self) -> int:
        """Calls counted so far this month."""
        at = self._now()
        return await asyncio.to_thread(self._read, at)

    async def spend(
        self, n: int = 1, *, operation: str | None = None, endpoint: str | None = None
    ) -> int:
        """Count ``n`` calls about to be sent and return this month's new total; raise a
        non-retryable RATE_LIMIT ``IntegrationError`` (and count nothing) when they would
        go past the ceiling."""
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        at = self._now()
        try:
            # The ledger is sync SQLAlchemy; a thread keeps the event loop free meanwhile.
            total = await asyncio.to_thread(self._record, n, at)
        except _OverCeiling as over:
            raise self._refusal(n, over.used, at, operation, endpoint) from None
        self._announce(total - n, total, at, operation, endpoint)
        return total

    # -- database (in a worker thread) ----------------------------------------------------

    def _record(self, n: int, at: datetime) -> int:
        with self.engine.begin() as conn:
            total = record_calls(conn, self.service, self.account, calls=n, at=at)
            if total > self.ceiling:
                raise _OverCeiling(total - n)  # leaving the block rolls the increment back
            return total

    def _read(self, at: datetime) -> int:
        with self.engine.connect() as conn:
            return calls_in_period(conn, self.service, self.account, at=at)

    # -- what it says -----------------------------------------------------------------------

    def _refusal(
        self, n: int, used: int, at: datetime, operation: str | None, endpoint: str | None
    ) -> IntegrationError:
        resets = self.resets_at(at)
        if used >= self.ceiling:
            what = f"{self._name} monthly call ceiling {self.ceiling} reached"
        else:
            what = (
                f"{self._name} monthly call ceiling {self.ceiling} would be passed by {n} "
                f"calls ({used} used)"
            )
        return IntegrationError(
            f"{what} for account {self.account}; counting resets {resets:%Y-%m-%d %H:%M} UTC",
            category=ErrorCategory.RATE_LIMIT,
            service=self.service,
            operation=operation,
            retryable=False,
            retry_after=(resets - at).total_seconds(),
            request_sent=False,
            endpoint=endpoint,
            details={
                "quota": "monthly",
                "account": self.account,
                "ceiling": self.ceiling,
                "used": used,
                "period": period_of(at),
                "resets_at": resets.isoformat(),
            },
        )

    def _announce(
        self, before: int, total: int, at: datetime, operation: str | None, endpoint: str | None
    ) -> None:
        """Log each threshold this spend crossed, and the moment the ceiling is reached."""
        resets = self.resets_at(at)
        for percent, count in self.thresholds:
            if before < count <= total:
                self._log(
                    "warn",
                    "quota_warning",
                    f"{self._name} monthly calls at {percent} % of the ceiling "
                    f"({total} of {self.ceiling}) for account {self.account}; "
                    f"counting resets {resets:%Y-%m-%d %H:%M} UTC",
                    at,
                    operation,
                    {"threshold_percent": percent, "endpoint": endpoint, "used": total},
                )
        if before < self.ceiling <= total:
            self._log(
                "error",
                "quota_exhausted",
                f"{self._name} monthly call ceiling {self.ceiling} reached for account "
                f"{self.account}; further calls are refused until "
                f"{resets:%Y-%m-%d %H:%M} UTC",
                at,
                operation,
                {"threshold_percent": 100, "endpoint": endpoint, "used": total},
            )

    def _log(
        self,
        level: Level,
        status: str,
        message: str,
        at: datetime,
        operation: str | None,
        details: dict[str, object],
    ) -> None:
        self._hub.emit(
            LogEvent(
                source="integration",
                service=self.service,
                operation=operation or "quota",
                level=level,
                message=message,
                status=status,
                details={
                    **details,
                    "account": self.account,
                    "ceiling": self.ceiling,
                    "period": period_of(at),
                    "resets_at": self.resets_at(at).isoformat(),
                },
                business_id=self.business_id,
                created_at=at,
            )
        )
