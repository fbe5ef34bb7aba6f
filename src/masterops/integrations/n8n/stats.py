"""Per-workflow success rates and recent failures, built from execution lists.

Kept apart from the connector so the arithmetic can be tested without HTTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from masterops.integrations.n8n.models import (
    FAILED_STATUSES,
    Execution,
    ExecutionFailure,
    Workflow,
    WorkflowStats,
)

_UNFINISHED = frozenset({"new", "running", "waiting"})


@dataclass
class _Tally:
    workflow_id: str
    name: str | None
    active: bool | None
    total: int = 0
    succeeded: int = 0
    failed: int = 0
    canceled: int = 0
    unfinished: int = 0
    last_execution_at: datetime | None = None
    last_failure_at: datetime | None = None
    # Newest first: the ids whose details the stats show, then their details.
    failure_ids: list[str] = field(default_factory=list)
    failures: dict[str, ExecutionFailure] = field(default_factory=dict)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


class StatsBuilder:
    """Feed it executions (newest first) with ``count``, then the failures with their run
    data with ``describe``; ``result()`` gives one ``WorkflowStats`` per workflow."""

    def __init__(
        self, workflows: Iterable[Workflow], *, since: datetime, keep_failures: int = 5
    ) -> None:
        self.since = since
        self.keep_failures = max(0, keep_failures)
        self._tallies: dict[str, _Tally] = {w.id: _Tally(w.id, w.name, w.active) for w in workflows}
        self._pending: set[str] = set()

    def _tally(self, workflow_id: str) -> _Tally:
        tally = self._tallies.get(workflow_id)
        if tally is None:  # a workflow the list did not show (archived, another project)
            tally = self._tallies[workflow_id] = _Tally(workflow_id, None, None)
        return tally

    def count(self, execution: Execution) -> None:
        tally = self._tally(execution.workflow_id)
        tally.total += 1
        when = execution.started_at
        tally.last_execution_at = _later(tally.last_execution_at, when)
        if execution.status == "success":
            tally.succeeded += 1
        elif execution.status in FAILED_STATUSES:
            tally.failed += 1
            tally.last_failure_at = _later(tally.last_failure_at, when)
            if len(tally.failure_ids) < self.keep_failures:
                tally.failure_ids.append(execution.id)
                self._pending.add(execution.id)
                # Shown even if its run data never arrives (data pruned, a crash).
                tally.failures[execution.id] = _failure(execution)
        elif execution.status == "canceled":
            tally.canceled += 1
        elif execution.status in _UNFINISHED:
            tally.unfinished += 1

    @property
    def wanted_failures(self) -> int:
        """Failures whose error message and node are still unknown."""
        return len(self._pending)

    @property
    def all_described(self) -> bool:
        return not self._pending

    def describe(self, execution: Execution) -> None:
        """Add the error message and failing node of a failure read with its run data."""
        if execution.id not in self._pending:
            return
        self._pending.discard(execution.id)
        self._tally(execution.workflow_id).failures[execution.id] = _failure(execution)

    def result(self) -> list[WorkflowStats]:
        out = []
        for tally in self._tallies.values():
            finished = tally.succeeded + tally.failed
            out.append(
                WorkflowStats(
                    workflow_id=tally.workflow_id,
                    workflow_name=tally.name,
                    active=tally.active,
                    since=self.since,
                    total=tally.total,
                    succeeded=tally.succeeded,
                    failed=tally.failed,
                    canceled=tally.canceled,
                    unfinished=tally.unfinished,
                    success_rate=tally.succeeded / finished if finished else None,
                    last_execution_at=tally.last_execution_at,
                    last_failure_at=tally.last_failure_at,
                    recent_failures=[tally.failures[i] for i in tally.failure_ids],
                )
            )
        out.sort(key=lambda s: ((s.workflow_name or "").lower(), s.workflow_id))
        return out


def _failure(execution: Execution) -> ExecutionFailure:
    return ExecutionFailure(
        execution_id=execution.id,
        started_at=execution.started_at,
        stopped_at=execution.stopped_at,
        mode=execution.mode,
        status=execution.status,
        error_message=execution.error_message,
        error_node=execution.error_node,
    )
