"""A worker builds its configuration, engine and telemetry once, when it launches, and
every job step uses them: no step rereads the configuration or rebuilds the engine."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from dbos import DBOS

from masterops.config import Config
from masterops.jobs import durable
from masterops.jobs.runtime import launched
from masterops.operations.context import AppContext


def test_steps_use_the_configuration_the_worker_launched_with(
    platform: Config, tmp_path: Path
) -> None:
    with launched(platform, worker_name="test", polling_interval_s=0.01):
        # Written after the launch: a running worker does not see it (restart to apply).
        (tmp_path / "masterops.toml").write_text('[businesses.boo]\nname = "Buy Organics Online"\n')
        first = DBOS.start_workflow(durable.health_round_job, "teelixir", False).get_result()
        second = DBOS.start_workflow(durable.health_round_job, "teelixir", False).get_result()
    # teelixir is still configured for this worker: the platform database and its 3 services.
    assert (first["checked"], second["checked"]) == (4, 4)


def test_a_step_context_shares_the_process_context_but_not_its_connector_runtime(
    platform: Config,
) -> None:
    process = AppContext(config=platform)
    try:
        steps: list[AppContext] = []

        def step() -> None:
            steps.append(process.step_context())

        threads = [threading.Thread(target=step) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        a, b = steps
        assert a.config is b.config is platform
        assert a.database() is b.database() is process.database()
        assert a.hub is b.hub is process.hub
        # Rate-limit buckets and breakers belong to one event loop: one per step.
        assert a.runtime is not b.runtime
        assert a.runtime.hub is process.hub
        a.close()
        b.close()
        # Closing the steps left the process's engine and telemetry in service.
        with process.database().connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar_one() == 1
        process.flush_telemetry()
    finally:
        process.close()


def test_a_step_helper_called_outside_a_step_says_so() -> None:
    with pytest.raises(RuntimeError, match="a job step runs inside _announced"):
        durable.current_step_context()
