"""The claim in ``report_deliveries`` that makes a scheduled report go out once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine

from masterops.reports.deliveries import MAX_ATTEMPTS, claim, finish, next_attempt

NOW = datetime(2026, 4, 5, 21, 0, tzinfo=UTC)
KEY = ("teelixir", "daily", "2026-04-05")


def _next(engine: Engine) -> int | None:
    with engine.connect() as conn:
        return next_attempt(conn, *KEY)


def test_one_claim_wins_and_its_own_rerun_goes_on(engine: Engine) -> None:
    assert _next(engine) == 1
    assert claim(engine, *KEY, attempt=1, claimant="worker-a", now=NOW)
    assert not claim(engine, *KEY, attempt=1, claimant="worker-b", now=NOW)
    # worker-a's workflow recovered after a crash runs its step again: still its claim.
    assert claim(engine, *KEY, attempt=1, claimant="worker-a", now=NOW)
    assert _next(engine) is None  # being sent
    finish(engine, *KEY, claimant="worker-a", now=NOW, channels=("email",))
    assert _next(engine) is None  # sent
    assert not claim(engine, *KEY, attempt=2, claimant="worker-b", now=NOW)


def test_a_failed_send_is_claimed_again_up_to_the_limit(engine: Engine) -> None:
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert _next(engine) == attempt
        assert not claim(engine, *KEY, attempt=attempt + 1, claimant="late", now=NOW)
        assert claim(engine, *KEY, attempt=attempt, claimant=f"run-{attempt}", now=NOW)
        finish(engine, *KEY, claimant=f"run-{attempt}", now=NOW, error="SMTP down")
    assert _next(engine) is None  # given up after MAX_ATTEMPTS
