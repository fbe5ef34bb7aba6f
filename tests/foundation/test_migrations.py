from sqlalchemy import Engine, inspect

from masterops.db import migrate
from masterops.db.summaries import SUMMARIES

TABLES = {
    "businesses",
    "tasks",
    "task_logs",
    "integration_logs",
    "workflow_execution_logs",
    "api_metrics",
    "api_quota_usage",
    "health_checks",
    "alert_history",
}


def test_upgrade_down_and_up_again(bare_engine: Engine) -> None:
    assert migrate.pending_revisions(bare_engine) == ["0001", "0002", "0003", "0004"]
    assert migrate.upgrade(bare_engine) == "0004"
    inspector = inspect(bare_engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert set(SUMMARIES) <= set(inspector.get_view_names())
    assert migrate.downgrade(bare_engine, "0001") == "0001"
    assert not set(SUMMARIES) & set(inspect(bare_engine).get_view_names())
    assert migrate.downgrade(bare_engine, "base") is None
    assert not TABLES & set(inspect(bare_engine).get_table_names())
    assert migrate.upgrade(bare_engine) == "0004"
    status = migrate.schema_status(bare_engine)
    assert status.up_to_date and status.row_counts["tasks"] == 0


def test_integration_logs_index_every_cli_filter(engine: Engine) -> None:
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("integration_logs")}
    for column in ("service", "level", "source", "business_id"):
        assert (column, "created_at") in indexed
