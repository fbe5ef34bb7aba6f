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
    "alert_acks",
    "worker_heartbeats",
    "sync_refusals",
    "secret_records",
    "audit_log",
    "sync_page_progress",
    "api_metrics_hourly",
    "api_metrics_daily",
    "integration_logs_hourly",
    "integration_logs_daily",
}


def test_upgrade_down_and_up_again(bare_engine: Engine) -> None:
    assert migrate.pending_revisions(bare_engine) == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
        "0012",
        "0013",
        "0014",
        "0015",
        "0016",
        "0017",
        "0018",
        "0019",
        "0020",
        "0021",
    ]
    assert migrate.upgrade(bare_engine) == migrate.head_revision() == "0021"
    inspector = inspect(bare_engine)
    assert set(inspector.get_table_names()) >= TABLES
    assert set(SUMMARIES) <= set(inspector.get_view_names())
    assert migrate.downgrade(bare_engine, "0001") == "0001"
    assert not set(SUMMARIES) & set(inspect(bare_engine).get_view_names())
    assert migrate.downgrade(bare_engine, "base") is None
    assert not TABLES & set(inspect(bare_engine).get_table_names())
    assert migrate.upgrade(bare_engine) == migrate.head_revision() == "0021"
    status = migrate.schema_status(bare_engine)
    assert status.up_to_date and status.row_counts["tasks"] == 0


def test_integration_logs_index_every_cli_filter(engine: Engine) -> None:
    indexed = {tuple(ix["column_names"]) for ix in inspect(engine).get_indexes("integration_logs")}
    for column in ("service", "level", "source", "business_id"):
        assert (column, "created_at") in indexed


def test_tables_module_matches_the_migrations(engine: Engine) -> None:
    """tables.py (what the code uses) and the migrations (what databases get) agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from masterops.db.tables import metadata

    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
