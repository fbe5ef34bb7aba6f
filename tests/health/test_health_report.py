"""Overall status and exit codes of a health report."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masterops.health import HealthReport
from masterops.integrations.base import HealthResult

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _result(status: str, service: str = "hubspot") -> HealthResult:
    if status == "disabled":
        return HealthResult.disabled(service, "teelixir", "set X", NOW)
    return HealthResult(service, "teelixir", status, 1.0, status, NOW, "closed")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statuses", "overall", "default_code", "docker_code"),
    [
        (["healthy", "healthy"], "healthy", 0, 0),
        (["healthy", "disabled"], "healthy", 0, 0),
        (["disabled"], "healthy", 0, 0),
        ([], "healthy", 0, 0),
        (["healthy", "degraded", "disabled"], "degraded", 1, 1),
        (["down", "degraded", "healthy"], "down", 2, 1),
        (["degraded", "down"], "down", 2, 1),
    ],
)
def test_overall_is_the_worst_checked_status(
    statuses: list[str], overall: str, default_code: int, docker_code: int
) -> None:
    report = HealthReport.of([_result(s) for s in statuses], NOW, NOW)
    assert report.status == overall
    assert report.exit_code() == report.exit_code("default") == default_code
    assert report.exit_code("docker") == docker_code
    data = report.to_dict("docker")
    assert data["status"] == overall and data["exit_code"] == docker_code
    assert sum(data["counts"].values()) == len(statuses)
    assert [r["status"] for r in data["results"]] == statuses


def test_unknown_exit_code_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="exit code mode"):
        HealthReport.of([], NOW, NOW).exit_code("kubernetes")  # type: ignore[arg-type]
