"""Running a workflow for real inside the sandbox and recording the execution.

Used by production webhooks and by ``POST /executions/{id}/retry``. A retry runs
the workflow again from its trigger with the trigger's original items: a run that
failed because of a node built to fail fails again, a seeded failure (a transient
API error in the history) succeeds. The real engine resumes at the failed node
instead; for a client the observable result is the same.
"""

from __future__ import annotations

from masterops_sandbox.n8n.runner import Items, RunOutcome, run_workflow, start_node, trigger_items
from masterops_sandbox.n8n.shapes import workflow_snapshot
from masterops_sandbox.n8n.store import JSON, Execution, N8nStore, Workflow


def record_run(
    store: N8nStore,
    wf: Workflow,
    *,
    start: JSON,
    items: Items,
    mode: str,
    retry_of: int | None = None,
    nodes: list[JSON] | None = None,
    connections: JSON | None = None,
    snapshot: JSON | None = None,
) -> tuple[Execution, RunOutcome]:
    created = store.now()
    started = round(created + 0.012, 3)  # the real server saves the row a few ms before it starts
    started_ms = int(started * 1000)
    outcome = run_workflow(
        nodes if nodes is not None else wf.nodes,
        connections if connections is not None else wf.connections,
        start=start,
        items=items,
        started_ms=started_ms,
        source=mode,
    )
    error = outcome.error or {}
    node = error.get("node")
    execution = store.add_execution(
        wf.id,
        mode=mode,
        status=outcome.status,
        created_at=created,
        started_at=started,
        stopped_at=outcome.stopped_ms / 1000,
        retry_of=retry_of,
        error_message=error.get("message"),
        error_node=node.get("name") if isinstance(node, dict) else None,
        data=outcome.data,
        workflow_data=snapshot if snapshot is not None else workflow_snapshot(wf),
    )
    return execution, outcome


def retry(
    store: N8nStore, original: Execution, *, load_workflow: bool
) -> tuple[Execution, RunOutcome] | None:
    """Run a failed execution again as a new ``retry`` execution; None if its workflow is gone."""
    wf = store.workflows.get(original.workflow_id)
    if wf is None:
        return None
    snapshot = original.workflow_data
    if load_workflow or snapshot is None:
        nodes, connections, snapshot = wf.nodes, wf.connections, workflow_snapshot(wf)
    else:
        nodes, connections = (
            list(snapshot.get("nodes") or []),
            dict(snapshot.get("connections") or {}),
        )
    start, items = _first_step(original, nodes)
    if start is None:
        return None
    execution, outcome = record_run(
        store,
        wf,
        start=start,
        items=items,
        mode="retry",
        retry_of=original.id,
        nodes=nodes,
        connections=connections,
        snapshot={**snapshot, "active": False, "activeVersionId": None},
    )
    if execution.status == "success":
        original.retry_success_id = execution.id
    return execution, outcome


def _first_step(original: Execution, nodes: list[JSON]) -> tuple[JSON | None, Items]:
    """The trigger node and the items it emitted in the original run."""
    run_data: JSON = ((original.data or {}).get("resultData") or {}).get("runData") or {}
    for name, runs in run_data.items():
        if runs and not runs[0].get("source"):
            node = next((n for n in nodes if n.get("name") == name), None)
            main = ((runs[0].get("data") or {}).get("main") or [[]])[0]
            if node is not None:
                return node, list(main or [])
    node = start_node(nodes)
    if node is None:
        return None, []
    return node, trigger_items(node, int(original.started_at * 1000))
