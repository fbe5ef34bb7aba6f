"""The jobs a process resumes when it starts: what a killed process of the same worker
name left unfinished.

DBOS resumes them by itself at launch, on a thread of its own. A process that runs one
job and exits (``ops worker --once``) must know about them: it must not start the same
job again beside the resumed one (two syncs of one business at once), and it must not
exit while they run (DBOS, destroyed under them, fails them half-done and leaves them
pending for the next start, which repeats the whole story).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ResumedJob:
    """A workflow of this executor that a previous process left unfinished."""

    workflow_id: str
    #: The registered workflow name ("masterops.sync_orders").
    name: str
    args: tuple[Any, ...]

    def runs(self, name: str, *args: Any) -> bool:
        """Whether this is the workflow ``name`` started with ``args`` (leading ones)."""
        return self.name == name and self.args[: len(args)] == args


def resumed_jobs(executor: str) -> list[ResumedJob]:
    """This executor's unfinished workflows that this process will run: the ones started
    directly (not from a queue it may not listen to). Call after ``DBOS.launch()``.

    Whether DBOS's recovery thread has re-enqueued them yet or not, they are PENDING or
    ENQUEUED under this executor's id until they finish.
    """
    from dbos import DBOS

    internal = "_dbos_internal_queue"  # where DBOS re-enqueues what it recovers
    found: list[ResumedJob] = []
    for status in DBOS.list_workflows(
        status=["PENDING", "ENQUEUED"], executor_id=executor, load_output=False
    ):
        if status.queue_name not in (None, internal):
            continue
        inputs = status.input or {"args": (), "kwargs": {}}
        found.append(ResumedJob(status.workflow_id, status.name, tuple(inputs["args"])))
    return found


def workflow_name(workflow: Any) -> str:
    """The name a workflow function is registered under."""
    return str(workflow.dbos_function_name)
