"""The alert rules after a worker's jobs run at most once per ``[workers] alerts_every_s``:
at once after a quiet spell, and otherwise once for every job that ended meanwhile, no
later than the interval; a worker that stops runs what is still due."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from dbos import DBOS
from sqlalchemy import select

from masterops.config import Config, load_config
from masterops.db.engine import create_db_engine
from masterops.db.tables import alert_history
from masterops.jobs import durable
from masterops.jobs.coalesce import Coalescer
from masterops.jobs.runtime import launched


class Recorder:
    """The paced action: records each run's reason and thread, and can be held."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.ran = threading.Event()

    def __call__(self, reason: str) -> None:
        self.runs.append((reason, threading.current_thread().name))
        self.ran.set()


def test_a_request_after_a_quiet_spell_runs_at_once_in_its_own_thread() -> None:
    action = Recorder()
    coalescer = Coalescer(action, interval_s=3600)
    assert coalescer.request("job a") is True
    assert action.runs == [("job a", threading.current_thread().name)]
    coalescer.close()
    assert action.runs == [("job a", threading.current_thread().name)]


def test_requests_within_the_interval_share_one_run_which_close_does_not_lose() -> None:
    action = Recorder()
    coalescer = Coalescer(action, interval_s=3600)
    coalescer.request("job a")
    assert [coalescer.request(f"job {n}") for n in "bcd"] == [False, False, False]
    assert [reason for reason, _ in action.runs] == ["job a"]
    coalescer.close()  # a worker stopping: the requests of b, c and d get their one run
    assert [reason for reason, _ in action.runs] == ["job a", "job d"]


def test_a_deferred_run_follows_when_the_interval_is_over() -> None:
    action = Recorder()
    coalescer = Coalescer(action, interval_s=0.2)
    coalescer.request("job a")
    action.ran.clear()
    assert coalescer.request("job b") is False
    assert action.ran.wait(timeout=30)  # on the coalescer's timer thread, not this one
    assert action.runs[1][0] == "job b"
    assert action.runs[1][1] != threading.current_thread().name
    coalescer.close()
    assert len(action.runs) == 2


def test_an_interval_of_zero_runs_every_request() -> None:
    action = Recorder()
    coalescer = Coalescer(action, interval_s=0)
    assert [coalescer.request(f"job {n}") for n in "ab"] == [True, True]
    assert [reason for reason, _ in action.runs] == ["job a", "job b"]


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="interval_s must be >= 0"):
        Coalescer(Recorder(), interval_s=-1)


def test_a_negative_alerts_every_s_is_refused_naming_the_key(
    platform: Config, tmp_path: Path
) -> None:
    from masterops.config import ConfigError

    (tmp_path / "masterops.toml").write_text("[workers]\nalerts_every_s = -1\n")
    with pytest.raises(ConfigError, match="alerts_every_s"):
        load_config()


def _down_syncs(config: Config) -> list[str]:
    engine = create_db_engine(config.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(alert_history.c.business_id).where(
                    alert_history.c.service == "sync:inventory",
                    alert_history.c.status == "down",
                )
            ).all()
    finally:
        engine.dispose()
    return sorted(r.business_id for r in rows)


def test_a_worker_alerts_on_its_first_failed_sync_at_once_and_on_the_next_by_its_stop(
    platform: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two businesses whose Unleashed nobody answers; one alert evaluation a minute at most.
    (tmp_path / "masterops.toml").write_text(
        "[limits.retry]\nmax_attempts = 1\n\n[workers]\nalerts_every_s = 60\n\n"
        '[alerts]\nchannels = ["log"]\n'
    )
    for business in ("boo", "rhf"):
        prefix = f"MASTEROPS_{business.upper()}_UNLEASHED"
        monkeypatch.setenv(f"{prefix}_API_ID", f"api-id-{business}")
        monkeypatch.setenv(f"{prefix}_API_KEY", f"api-key-{business}-secret")
        monkeypatch.setenv(f"{prefix}_URL", "http://127.0.0.1:9")
    config = load_config()
    with launched(config, worker_name="test", polling_interval_s=0.01):
        for business in ("boo", "rhf"):
            with pytest.raises(durable.SyncFailed):
                DBOS.start_workflow(durable.inventory_sync_job, business, False).get_result()
        # boo's failure was evaluated in its step; rhf's waits for the interval.
        assert _down_syncs(config) == ["boo"]
    assert _down_syncs(config) == ["boo", "rhf"]
