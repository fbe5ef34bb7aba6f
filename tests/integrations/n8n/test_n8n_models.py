"""The n8n models: the wire's shapes and quirks, without HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from masterops.integrations.n8n import (
    EXECUTION_STATUS_FILTERS,
    Execution,
    Node,
    Workflow,
    check_status_filter,
    error_from_run_data,
)


def test_execution_ids_become_strings_and_times_utc() -> None:
    execution = Execution.model_validate(
        {
            "id": 3,  # a number in the answer to a delete
            "workflowId": "L3C3W8ke0XoPc6Jw",
            "status": "error",
            "mode": "retry",
            "retryOf": 2,  # a number in the answer to a retry
            "startedAt": "2025-03-01T10:00:00.120+02:00",
            "stoppedAt": "2025-03-01T08:00:01.620",  # naive: UTC
        }
    )
    assert execution.id == "3" and execution.retry_of == "2"
    assert execution.started_at == datetime(2025, 3, 1, 8, 0, 0, 120000, tzinfo=UTC)
    assert execution.started_at is not None and execution.started_at.tzinfo is UTC
    assert execution.stopped_at is not None and execution.stopped_at.tzinfo is UTC
    assert execution.duration_s == pytest.approx(1.5)
    assert execution.failed and execution.error_message is None


def test_error_is_extracted_from_run_data() -> None:
    data = {
        "resultData": {
            "error": {"message": "boom [line 1]", "node": {"name": "Code", "type": "x"}},
            "lastNodeExecuted": "Code",
        }
    }
    execution = Execution.model_validate(
        {"id": "9", "workflowId": "w", "status": "error", "mode": "webhook", "data": data}
    )
    assert (execution.error_message, execution.error_node) == ("boom [line 1]", "Code")
    assert "data" not in repr(execution)  # run data can be huge


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, (None, None)),
        ({}, (None, None)),
        ({"resultData": {"runData": {}}}, (None, None)),
        ({"resultData": {"error": {"message": "m", "node": "Named"}}}, ("m", "Named")),
        (
            {"resultData": {"error": {"description": "d"}, "lastNodeExecuted": "Last"}},
            ("d", "Last"),
        ),
        ({"resultData": {"error": "not an object"}}, (None, None)),
    ],
)
def test_error_from_run_data_variants(
    data: object, expected: tuple[str | None, str | None]
) -> None:
    assert error_from_run_data(data) == expected


def test_node_round_trip_keeps_unknown_fields_and_whole_versions() -> None:
    raw = {
        "name": "Hook",
        "type": "n8n-nodes-base.webhook",
        "typeVersion": 2,
        "position": [0, 0],
        "parameters": {"path": "p"},
        "webhookId": "abc",
        "notesInFlow": True,
    }
    node = Node.model_validate(raw)
    assert node.webhook_id == "abc"
    assert node.to_api() == raw
    assert Node.model_validate({**raw, "typeVersion": 1.2}).to_api()["typeVersion"] == 1.2


def test_workflow_with_null_tags_and_defaults() -> None:
    workflow = Workflow.model_validate({"id": "a", "name": "n", "tags": None, "shared": [{}]})
    assert workflow.tags == [] and workflow.active is False and workflow.nodes == []


def test_status_filter_check() -> None:
    for status in EXECUTION_STATUS_FILTERS:
        assert check_status_filter(status) == status
    assert check_status_filter(None) is None
    with pytest.raises(ValueError, match="crashed runs are listed under 'error'"):
        check_status_filter("crashed")
