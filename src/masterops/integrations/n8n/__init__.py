"""The n8n connector: workflows, executions, tags, per-workflow statistics and health
through n8n's public REST API v1 (``X-N8N-API-KEY``)."""

from masterops.integrations.n8n.client import MAX_PAGE_SIZE
from masterops.integrations.n8n.connector import N8nConnector
from masterops.integrations.n8n.executions import check_status_filter
from masterops.integrations.n8n.models import (
    EXECUTION_STATUS_FILTERS,
    Execution,
    ExecutionFailure,
    ExecutionStatusFilter,
    Node,
    Tag,
    Workflow,
    WorkflowStats,
    error_from_run_data,
)

__all__ = [
    "EXECUTION_STATUS_FILTERS",
    "MAX_PAGE_SIZE",
    "Execution",
    "ExecutionFailure",
    "ExecutionStatusFilter",
    "N8nConnector",
    "Node",
    "Tag",
    "Workflow",
    "WorkflowStats",
    "check_status_filter",
    "error_from_run_data",
]
