"""``HealthReport``: the results of one health round, their overall status and exit code."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from masterops.integrations.base import SEVERITY, BreakerState, HealthResult

OverallStatus = Literal["healthy", "degraded", "down"]
ExitCodeMode = Literal["default", "docker"]
EXIT_CODE_MODES: tuple[ExitCodeMode, ...] = ("default", "docker")


@dataclass(frozen=True, slots=True)
class HealthReport:
    """Every result of one round, in a stable order (platform first, then by business),
    and the circuit breakers of the process as the round left them."""

    results: tuple[HealthResult, ...]
    started_at: datetime
    finished_at: datetime
    breakers: tuple[BreakerState, ...] = ()

    @classmethod
    def of(
        cls,
        results: Sequence[HealthResult],
        started_at: datetime,
        finished_at: datetime,
        breakers: Sequence[BreakerState] = (),
    ) -> HealthReport:
        return cls(tuple(results), started_at, finished_at, tuple(breakers))

    @property
    def status(self) -> OverallStatus:
        """The worst status among the checked services; disabled ones are ignored, and a
        round that checked nothing is "healthy" (there is nothing wrong to report)."""
        worst: OverallStatus = "healthy"
        for result in self.results:
            if result.status == "down":
                return "down"
            if result.status == "degraded":
                worst = "degraded"
        return worst

    def counts(self) -> dict[str, int]:
        """How many results have each status, every status present (zeros included)."""
        counted = Counter(r.status for r in self.results)
        return {s: counted.get(s, 0) for s in ("healthy", "degraded", "down", "disabled")}

    def exit_code(self, mode: ExitCodeMode = "default") -> int:
        """0 healthy, 1 degraded, 2 down; in ``docker`` mode (a HEALTHCHECK knows only 0
        and 1) 0 healthy and 1 for anything else."""
        if mode == "docker":
            return 0 if self.status == "healthy" else 1
        if mode != "default":
            raise ValueError(f"exit code mode must be one of {EXIT_CODE_MODES}, got {mode!r}")
        return SEVERITY[self.status]  # the exit code is the severity

    def to_dict(self, mode: ExitCodeMode = "default") -> dict[str, Any]:
        return {
            "status": self.status,
            "exit_code": self.exit_code(mode),
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "counts": self.counts(),
            "results": [r.to_dict() for r in self.results],
            "breakers": [b.to_dict() for b in self.breakers],
        }
