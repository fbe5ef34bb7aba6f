"""A failed n8n execution, as the error workflow reports it, kept in ``integration_logs``.

The library's error notifier (an Error Trigger workflow every library workflow names as
``settings.errorWorkflow``) posts here through the API, so a failure in n8n is an error
line in the platform beside the connectors' own: ``ops logs --service n8n --level error``,
the dashboard and the reports see it. Text is redacted before it is stored: an error
message can quote a header.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert

from masterops.db.rollups import add_rows
from masterops.db.tables import integration_logs
from masterops.observability.redaction import Redactor

SOURCE = "n8n-error-workflow"
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class WorkflowFailure:
    workflow_id: str | None
    workflow_name: str
    message: str
    execution_id: str | None = None
    node: str | None = None
    url: str | None = None
    mode: str | None = None
    business_id: str | None = None


def record_failure(conn: Connection, failure: WorkflowFailure) -> int:
    """Insert one error line; its id."""
    redact = Redactor()
    details: dict[str, Any] = {
        "execution_id": failure.execution_id,
        "node": failure.node,
        "url": failure.url,
        "mode": failure.mode,
    }
    message = redact.text(failure.message)[:MAX_MESSAGE]
    where = f" at node {failure.node!r}" if failure.node else ""
    values: dict[str, Any] = {
        "source": SOURCE,
        "service": "n8n",
        "operation": f"workflow {failure.workflow_name}"[:200],
        "level": "error",
        "status": "failed",
        "message": f"n8n workflow {failure.workflow_name!r} failed{where}: {message}",
        "details_json": redact.mapping({k: v for k, v in details.items() if v is not None}),
        "business_id": failure.business_id,
        "workflow_id": failure.workflow_id,
        # Set here, not by the database: the rollups file the line under this hour.
        "created_at": datetime.now(UTC),
    }
    row = conn.execute(
        insert(integration_logs).values(**values).returning(integration_logs.c.id)
    ).scalar_one()
    add_rows(conn, [values], "integration_logs")
    return int(row)
