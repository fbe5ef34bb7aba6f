"""The seed's tables, businesses and the API quota counter.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masterops.db.types import JSONType, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id() -> sa.Column[int]:
    return sa.Column("id", Id, primary_key=True, autoincrement=True)


def _at(name: str, *, required: bool = True) -> sa.Column[object]:
    if required:
        return sa.Column(name, UTCDateTime(), nullable=False, server_default=sa.func.now())
    return sa.Column(name, UTCDateTime())


def upgrade() -> None:
    op.create_table(
        "businesses",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("services", JSONType, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        _at("created_at"),
        _at("updated_at"),
    )
    op.create_table(
        "tasks",
        _id(),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("business", sa.String(64)),
        sa.Column("category", sa.String(64)),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("plan_json", JSONType),
        sa.Column("current_step", sa.Integer, nullable=False),
        sa.Column("retry_count", sa.Integer, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        _at("next_action_after", required=False),
        sa.Column("assigned_to", sa.String(200)),
        sa.Column("completion_notes", sa.Text),
        sa.Column("error_message", sa.Text),
        _at("created_at"),
        _at("updated_at"),
        _at("started_at", required=False),
        _at("completed_at", required=False),
    )
    op.create_index("ix_tasks_status_priority", "tasks", ["status", "priority"])
    op.create_index("ix_tasks_business", "tasks", ["business"])
    op.create_table(
        "task_logs",
        _id(),
        sa.Column(
            "task_id",
            Id,
            sa.ForeignKey("tasks.id", ondelete="CASCADE", name="fk_task_logs_task_id_tasks"),
            nullable=False,
        ),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details_json", JSONType),
        _at("created_at"),
    )
    op.create_index("ix_task_logs_task_id_created_at", "task_logs", ["task_id", "created_at"])
    op.create_table(
        "integration_logs",
        _id(),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("service", sa.String(64)),
        sa.Column("operation", sa.String(200)),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("status", sa.String(32)),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("details_json", JSONType),
        sa.Column("duration_ms", sa.Float),
        sa.Column("business_id", sa.String(64)),
        sa.Column("workflow_id", sa.String(64)),
        sa.Column("integration_id", sa.String(64)),
        sa.Column("user_id", sa.String(64)),
        _at("created_at"),
    )
    for cols in (
        ["created_at"],
        ["service", "created_at"],
        ["level", "created_at"],
        ["source", "created_at"],
        ["business_id", "created_at"],
    ):
        op.create_index("ix_integration_logs_" + "_".join(cols), "integration_logs", cols)
    op.create_table(
        "workflow_execution_logs",
        _id(),
        sa.Column("workflow_id", sa.String(64), nullable=False),
        sa.Column("workflow_name", sa.String(300)),
        sa.Column("execution_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(32)),
        _at("started_at", required=False),
        _at("finished_at", required=False),
        sa.Column("duration_ms", sa.Float),
        sa.Column("error_message", sa.Text),
        sa.Column("error_details_json", JSONType),
        sa.Column("nodes_executed", sa.Integer),
        sa.Column("nodes_failed", sa.Integer),
        sa.Column("business_id", sa.String(64)),
        sa.Column("triggered_by", sa.String(64)),
        sa.Column("data_json", JSONType),
        _at("created_at"),
        sa.UniqueConstraint("execution_id", name="uq_workflow_execution_logs_execution_id"),
    )
    for cols in (["workflow_id", "started_at"], ["status", "started_at"], ["started_at"]):
        op.create_index(
            "ix_workflow_execution_logs_" + "_".join(cols), "workflow_execution_logs", cols
        )
    op.create_table(
        "api_metrics",
        _id(),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("endpoint", sa.String(300), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("success", sa.Boolean, nullable=False),
        sa.Column("duration_ms", sa.Float, nullable=False),
        sa.Column("response_size_bytes", sa.Integer),
        sa.Column("rate_limit_remaining", sa.Integer),
        _at("rate_limit_reset_at", required=False),
        sa.Column("error_category", sa.String(32)),
        sa.Column("error_message", sa.Text),
        sa.Column("operation", sa.String(200)),
        sa.Column("business_id", sa.String(64)),
        _at("created_at"),
    )
    op.create_index("ix_api_metrics_created_at", "api_metrics", ["created_at"])
    op.create_index(
        "ix_api_metrics_service_endpoint_created_at",
        "api_metrics",
        ["service", "endpoint", "created_at"],
    )
    op.create_table(
        "api_quota_usage",
        sa.Column("service", sa.String(64), primary_key=True),
        sa.Column("account", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("calls", sa.Integer, nullable=False),
        _at("updated_at"),
    )


def downgrade() -> None:
    for table in (
        "api_quota_usage",
        "api_metrics",
        "workflow_execution_logs",
        "integration_logs",
        "task_logs",
        "tasks",
        "businesses",
    ):
        op.drop_table(table)
