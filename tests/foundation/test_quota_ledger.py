import threading
from datetime import UTC, datetime

from sqlalchemy import Engine

from masterops.db.quota import calls_in_period, period_of, record_calls


def test_counts_per_account_and_month(engine: Engine) -> None:
    nov = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    dec = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    with engine.begin() as conn:
        assert record_calls(conn, "unleashed", "acct-1", at=nov) == 1
        assert record_calls(conn, "unleashed", "acct-1", calls=4, at=nov) == 5
        assert record_calls(conn, "unleashed", "acct-2", at=nov) == 1
        assert record_calls(conn, "unleashed", "acct-1", at=dec) == 1
    with engine.connect() as conn:
        assert calls_in_period(conn, "unleashed", "acct-1", at=nov) == 5
        assert calls_in_period(conn, "unleashed", "acct-1", at=dec) == 1
        assert calls_in_period(conn, "unleashed", "nobody", at=dec) == 0
    assert period_of(datetime(2026, 1, 1, 0, 30, tzinfo=UTC)) == "2026-01"


def test_concurrent_increments_are_not_lost(engine: Engine) -> None:
    def bump() -> None:
        for _ in range(25):
            with engine.begin() as conn:
                record_calls(conn, "unleashed", "shared")

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with engine.connect() as conn:
        assert calls_in_period(conn, "unleashed", "shared") == 100
