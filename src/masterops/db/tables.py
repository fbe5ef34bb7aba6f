"""Every table of the platform, as SQLAlchemy Core.

The seed's tables keep the columns the TypeScript original had, so an operator
who knows the original finds every field. Indexes follow the filters the CLI
offers (``ops logs``, ``ops db query``, ``ops stats``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

from masterops.db.latency_histogram import COLUMNS as HISTOGRAM_COLUMNS
from masterops.db.types import JSONType, UTCDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

# Integer ids: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _created() -> Column[object]:
    return Column("created_at", UTCDateTime(), nullable=False, server_default=func.now())


businesses = Table(
    "businesses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("services", JSONType, nullable=False),
    Column("enabled", Boolean, nullable=False, default=True),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("title", String(500), nullable=False),
    Column("description", Text),
    Column("business", String(64)),
    Column("category", String(64)),
    Column("priority", Integer, nullable=False, default=3),
    Column("status", String(32), nullable=False, default="pending"),
    Column("plan_json", JSONType),
    Column("current_step", Integer, nullable=False, default=0),
    Column("retry_count", Integer, nullable=False, default=0),
    Column("max_retries", Integer, nullable=False, default=3),
    Column("next_action_after", UTCDateTime()),
    Column("assigned_to", String(200)),
    Column("completion_notes", Text),
    Column("error_message", Text),
    _created(),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Column("started_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Index(None, "status", "priority"),
    Index(None, "business"),
)

task_logs = Table(
    "task_logs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("task_id", Id, ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(64), nullable=False, default="cli"),
    Column("level", String(16), nullable=False, default="info"),
    Column("status", String(32)),
    Column("message", Text, nullable=False),
    Column("details_json", JSONType),
    _created(),
    Index(None, "task_id", "created_at"),
)

# No CHECK on `source`: the original's CHECK rejected its own new sources.
integration_logs = Table(
    "integration_logs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(64), nullable=False),
    Column("service", String(64)),
    Column("operation", String(200)),
    Column("level", String(16), nullable=False),
    Column("status", String(32)),
    Column("message", Text, nullable=False),
    Column("details_json", JSONType),
    Column("duration_ms", Float),
    Column("business_id", String(64)),
    Column("workflow_id", String(64)),
    Column("integration_id", String(64)),
    Column("user_id", String(64)),
    _created(),
    # No index on created_at alone: the covering one below leads with it (migration 0021).
    Index(None, "service", "created_at"),
    Index(None, "level", "created_at"),
    Index(None, "source", "created_at"),
    Index(None, "business_id", "created_at"),
    # Covers the integration summary over a window (migration 0015).
    Index(None, "created_at", "source", "level"),
)

workflow_execution_logs = Table(
    "workflow_execution_logs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("workflow_id", String(64), nullable=False),
    Column("workflow_name", String(300)),
    # The n8n instance (its URL): execution ids count from 1 on each instance.
    Column("instance", String(300), nullable=False, server_default=""),
    Column("execution_id", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("mode", String(32)),
    Column("started_at", UTCDateTime()),
    Column("finished_at", UTCDateTime()),
    Column("duration_ms", Float),
    Column("error_message", Text),
    Column("error_details_json", JSONType),
    Column("nodes_executed", Integer),
    Column("nodes_failed", Integer),
    Column("business_id", String(64)),
    Column("triggered_by", String(64)),
    Column("data_json", JSONType),
    _created(),
    UniqueConstraint("instance", "execution_id"),
    Index(None, "workflow_id", "started_at"),
    Index(None, "status", "started_at"),
    Index(None, "started_at"),
)

api_metrics = Table(
    "api_metrics",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("service", String(64), nullable=False),
    Column("endpoint", String(300), nullable=False),
    Column("method", String(10), nullable=False),
    Column("status_code", Integer),
    Column("success", Boolean, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("response_size_bytes", Integer),
    Column("rate_limit_remaining", Integer),
    Column("rate_limit_reset_at", UTCDateTime()),
    Column("error_category", String(32)),
    Column("error_message", Text),
    Column("operation", String(200)),
    Column("business_id", String(64)),
    _created(),
    # No index on created_at alone: the covering one below leads with it (migration 0021).
    Index(None, "service", "endpoint", "created_at"),
    # Covers the API summary over a window (migration 0015).
    Index(None, "created_at", "service", "endpoint", "duration_ms", "success"),
)

# Calls per account and calendar month, for services with a monthly quota (Unleashed).
api_quota_usage = Table(
    "api_quota_usage",
    metadata,
    Column("service", String(64), primary_key=True),
    Column("account", String(128), primary_key=True),
    Column("period", String(7), primary_key=True),  # "YYYY-MM", UTC
    Column("calls", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
)

#: Tables an operator may read with ``ops db query`` and prune with ``ops db prune``.
QUERYABLE = {
    t.name: t
    for t in (
        businesses,
        tasks,
        task_logs,
        integration_logs,
        workflow_execution_logs,
        api_metrics,
        api_quota_usage,
    )
}
#: Log tables and the column whose age decides retention.
PRUNABLE = {
    "integration_logs": integration_logs.c.created_at,
    "api_metrics": api_metrics.c.created_at,
    "task_logs": task_logs.c.created_at,
    "workflow_execution_logs": workflow_execution_logs.c.created_at,
}

# One row per (business, service) per health round; the platform's own checks use the
# business "platform". The latest row per pair is the status an alert compares against.
health_checks = Table(
    "health_checks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("business_id", String(64), nullable=False),
    Column("service", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # healthy, degraded, down, disabled
    Column("latency_ms", Float),
    Column("message", Text, nullable=False),
    Column("breaker", String(16)),
    Column("details_json", JSONType),
    Column("checked_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Index(None, "business_id", "service", "checked_at"),
    Index(None, "checked_at"),
)

# One row per alert per channel, delivered or not (``error`` says why not).
alert_history = Table(
    "alert_history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("business_id", String(64), nullable=False),
    Column("service", String(64), nullable=False),
    Column("previous_status", String(16)),
    Column("status", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("delivered", Boolean, nullable=False),
    Column("error", Text),
    _created(),
    Index(None, "created_at"),
    Index(None, "business_id", "service", "created_at"),
)

# An operator's acknowledgement of a (business, service) alert: every alert about it stays
# quiet until it recovers; the recovery is sent and the ack cleared (``cleared_at``).
alert_acks = Table(
    "alert_acks",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("business_id", String(64), nullable=False),
    Column("service", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # the status acknowledged
    Column("alert_id", Id),  # the alert_history row acknowledged, when one was named
    Column("note", Text),
    Column("acked_by", String(100)),
    _created(),
    Column("cleared_at", UTCDateTime()),
    Index(None, "business_id", "service", "cleared_at"),
)

# One row per worker (its DBOS executor id), refreshed every minute while it runs.
worker_heartbeats = Table(
    "worker_heartbeats",
    metadata,
    Column("worker_id", String(200), primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("seen_at", UTCDateTime(), nullable=False),
    Column("version", String(64)),
    # "running", or "stopped" by a clean exit (Ctrl-C, SIGTERM).
    Column("state", String(16), nullable=False, server_default="running"),
    # Set once by the live worker that recovered this one's jobs after its silence
    # (``jobs/takeover.py``); a heartbeat after that means it came back.
    Column("taken_over_by", String(200)),
    Column("taken_over_at", UTCDateTime()),
    Column("taken_over_jobs", Integer),
)

QUERYABLE.update({t.name: t for t in (health_checks, alert_history, alert_acks, worker_heartbeats)})

# When each configured secret was first seen and last changed; never its value (a short
# keyed fingerprint tells a change). ``ops secrets check`` and ``rotate`` keep it.
secret_records = Table(
    "secret_records",
    metadata,
    Column("variable", String(120), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("business_id", String(64)),
    Column("fingerprint", String(16), nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("changed_at", UTCDateTime(), nullable=False),
    Column("checked_at", UTCDateTime(), nullable=False),
    Column("rotated_at", UTCDateTime()),
    Column("rotated_by", String(100)),
)
QUERYABLE[secret_records.name] = secret_records
PRUNABLE.update(
    {
        "health_checks": health_checks.c.checked_at,
        "alert_history": alert_history.c.created_at,
    }
)

# Each (business, entity) sync's watermark: where an interrupted sync resumes.
sync_state = Table(
    "sync_state",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("watermark", String(200)),
    Column("details_json", JSONType),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
)

# The last page of a sync stage committed with its records (``sync/pages.py``): a run
# killed mid-walk resumes after it when it reads from the same watermark. Deleted when a
# run succeeds.
sync_page_progress = Table(
    "sync_page_progress",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("stage", String(64), primary_key=True),
    # The watermark the walk reads changes since, or "full".
    Column("read_from", String(200), nullable=False),
    Column("page_size", Integer, nullable=False),
    Column("page", Integer, nullable=False),
    Column("done", Boolean, nullable=False),
    # When the first attempt of the walk started (the connector's clock): the watermark
    # a resumed run moves to, so nothing changed meanwhile is skipped.
    Column("walk_started", String(200), nullable=False),
    Column("run_id", Id),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
)

# One row per sync run; status running, succeeded, failed or interrupted.
sync_runs = Table(
    "sync_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("business_id", String(64), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("full", Boolean, nullable=False, default=False),
    Column("fetched", Integer, nullable=False, default=0),
    Column("written", Integer, nullable=False, default=0),
    Column("failed", Integer, nullable=False, default=0),
    Column("watermark_before", String(200)),
    Column("watermark_after", String(200)),
    Column("error_message", Text),
    Column("details_json", JSONType),
    Column("started_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Column("finished_at", UTCDateTime()),
    Index(None, "business_id", "entity", "started_at"),
)

# One row per item HubSpot refused during a sync run, and why (``sync/refusals.py``).
# Deleted with its run (``ops db prune`` deletes runs; the foreign key cascades).
sync_refusals = Table(
    "sync_refusals",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("sync_runs.id", ondelete="CASCADE"), nullable=False),
    Column("business_id", String(64), nullable=False),
    Column("entity", String(64), nullable=False),
    Column("item_kind", String(32), nullable=False),
    Column("item_key", String(200), nullable=False),
    Column("category", String(32)),
    Column("status_code", Integer),
    Column("reason", Text, nullable=False),
    _created(),
    Index(None, "run_id"),
)

# Who holds each sync lock (the lock itself is an advisory lock or a file lock; see
# sync/locks.py): a run refused the lock names its holder from here.
sync_locks = Table(
    "sync_locks",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("entity", String(64), primary_key=True),
    Column("holder", String(300), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", UTCDateTime(), nullable=False),
)

# The HTTP service's API tokens (``ops tokens``): the SHA-256 of each, never the token.
# ``businesses_json`` null means every business.
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("scope", String(16), nullable=False),
    Column("businesses_json", JSONType),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

# The Unleashed product catalogue, per business, with the HubSpot product it became.
products = Table(
    "products",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("unleashed_guid", String(64), primary_key=True),
    Column("product_code", String(100), nullable=False),
    Column("description", Text),
    Column("barcode", String(100)),
    Column("default_sell_price", Float),
    Column("product_group", String(200)),
    Column("is_obsolete", Boolean, nullable=False, default=False),
    Column("unleashed_modified_at", UTCDateTime()),
    Column("hubspot_id", String(64)),
    Column("hubspot_synced_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Index(None, "business_id", "product_code"),
)

# Stock on hand per product and warehouse, as Unleashed last reported it.
stock_levels = Table(
    "stock_levels",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("product_guid", String(64), primary_key=True),
    Column("warehouse_code", String(64), primary_key=True),
    Column("product_code", String(100), nullable=False),
    Column("qty_on_hand", Float, nullable=False),
    Column("allocated_qty", Float, nullable=False),
    Column("available_qty", Float, nullable=False),
    Column("on_purchase", Float),
    Column("avg_cost", Float),
    Column("total_cost", Float),
    Column("unleashed_modified_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
)

QUERYABLE.update(
    {t.name: t for t in (sync_state, sync_runs, sync_refusals, products, stock_levels)}
)
PRUNABLE["sync_runs"] = sync_runs.c.started_at

# Events accepted by a webhook receiver (``ops serve``), waiting to be processed.
# UNIQUE(source, event_id) makes a redelivery a no-op; status pending, processed or failed.
webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False),
    Column("business_id", String(64)),
    Column("event_id", String(128), nullable=False),
    Column("subscription_type", String(128)),
    Column("object_id", String(64)),
    Column("occurred_at", UTCDateTime()),
    Column("payload_json", JSONType, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("processed_at", UTCDateTime()),
    UniqueConstraint("source", "event_id"),
    Index(None, "status", "received_at"),
    Index(None, "received_at"),
)

QUERYABLE[webhook_inbox.name] = webhook_inbox
PRUNABLE["webhook_inbox"] = webhook_inbox.c.received_at
#: Rows of a prunable table that age never removes. The webhook inbox is the event log
#: (``ops events``): an event not yet processed is work, a processed one is history that
#: replay relies on; only failed events (nothing was applied) age out.
RETAINED = {"webhook_inbox": webhook_inbox.c.status.in_(("pending", "processed"))}

# Unleashed customers, per business, with the HubSpot contact each became.
customers = Table(
    "customers",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("unleashed_guid", String(64), primary_key=True),
    Column("customer_code", String(100), nullable=False),
    Column("customer_name", String(300)),
    Column("email", String(320)),
    Column("first_name", String(200)),
    Column("last_name", String(200)),
    Column("currency", String(8)),
    Column("obsolete", Boolean, nullable=False, default=False),
    Column("unleashed_modified_at", UTCDateTime()),
    Column("hubspot_id", String(64)),
    # Wholesale businesses only: the HubSpot company the customer became.
    Column("hubspot_company_id", String(64)),
    Column("hubspot_synced_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Index(None, "business_id", "customer_code"),
    Index(None, "business_id", "email"),
)

# Unleashed sales orders, per business, with the HubSpot deal each became.
orders = Table(
    "orders",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("unleashed_guid", String(64), primary_key=True),
    Column("order_number", String(100), nullable=False),
    Column("order_date", UTCDateTime()),
    Column("required_date", UTCDateTime()),
    Column("status", String(32), nullable=False),
    Column("customer_guid", String(64)),
    Column("customer_code", String(100)),
    Column("warehouse_code", String(64)),
    Column("currency", String(8)),
    Column("sub_total", Float),
    Column("tax_total", Float),
    Column("total", Float),
    Column("unleashed_modified_at", UTCDateTime()),
    Column("hubspot_deal_id", String(64)),
    Column("hubspot_synced_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
    # The contact and company the deal was last reconciled with: when the customer's ids
    # differ, the deal's links are out of date even though the order did not change.
    Column("hubspot_contact_link", String(64)),
    Column("hubspot_company_link", String(64)),
    Index(None, "business_id", "order_number"),
    Index(None, "business_id", "status"),
)

# The lines of each order, with the HubSpot line item each became.
order_lines = Table(
    "order_lines",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("order_guid", String(64), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("line_guid", String(64)),
    Column("product_guid", String(64)),
    Column("product_code", String(100)),
    Column("quantity", Float, nullable=False),
    Column("unit_price", Float),
    Column("discount_rate", Float),
    Column("line_total", Float),
    Column("line_tax", Float),
    Column("hubspot_line_item_id", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False, server_default=func.now()),
    # The HubSpot product the line item last named (``hs_product_id``), as for orders.
    Column("hubspot_product_link", String(64)),
)

# Lines an order lost in Unleashed, kept until their HubSpot line item is archived: the
# ``order_lines`` row is gone, and the line item may never have been linked to its deal.
dropped_order_lines = Table(
    "dropped_order_lines",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("line_guid", String(100), primary_key=True),
    Column("order_guid", String(64), nullable=False),
    Column("hubspot_line_item_id", String(64)),
    Column("dropped_at", UTCDateTime(), nullable=False),
)

QUERYABLE.update({t.name: t for t in (customers, orders, order_lines, dropped_order_lines)})

# The scheduled reports sent (or being sent): the primary key is the claim a worker takes
# before sending, so a report goes out once however many workers run. Status sending,
# sent or failed; a failed one is claimed again (``attempts`` + 1) by a later run.
report_deliveries = Table(
    "report_deliveries",
    metadata,
    Column("business_id", String(64), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("period", String(32), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("claimed_by", String(200), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("channels", String(100)),
    Column("error", Text),
)

QUERYABLE[report_deliveries.name] = report_deliveries

# Every change to an audited table (``db/audit_ddl.py`` lists them): who (``changed_by``,
# the actor the platform named; ``db_role``, the database login on PostgreSQL), what (the
# row before and after, secret columns left out) and when. Written by triggers only and
# append-only: the retention job (``db/audit.py``'s ``prune``) is the one way rows leave.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("table_name", Text, nullable=False),
    Column("operation", Text, nullable=False),
    Column("row_id", Text),
    Column("old_row", JSONType),
    Column("new_row", JSONType),
    Column("changed_by", Text, nullable=False),
    Column("db_role", Text),
    Column("changed_at", UTCDateTime(), nullable=False, server_default=func.now()),
    Index(None, "changed_at"),
    Index(None, "table_name", "changed_at"),
)


# Hourly and daily rollups of api_metrics and integration_logs (migration 0016, see
# db/rollups.py): one row per period and key, counters that writers add to, and the
# latency histogram as one counter column per bucket (db/latency_histogram.py), so a
# window's percentiles come from column sums. Missing key parts are stored as '' (a
# NULL would make every row distinct to ON CONFLICT).
def _rollup_table(name: str, keys: list[Column[object]]) -> Table:
    return Table(
        name,
        metadata,
        Column("period_start", UTCDateTime(), primary_key=True),
        *keys,
        Column("calls", BigInteger, nullable=False),
        Column("errors", BigInteger, nullable=False),
        Column("duration_count", BigInteger, nullable=False),
        Column("duration_sum", Float, nullable=False),
        Column("duration_min", Float),
        Column("duration_max", Float),
        Column("last_at", UTCDateTime(), nullable=False),
        *(Column(c, Integer, nullable=False) for c in HISTOGRAM_COLUMNS),
    )


def _api_rollup_keys() -> list[Column[object]]:
    return [
        Column("business_id", String(64), primary_key=True),
        Column("service", String(64), primary_key=True),
        Column("endpoint", String(300), primary_key=True),
        Column("operation", String(200), primary_key=True),
        Column("status_class", String(8), primary_key=True),  # 2xx .. 5xx, or none
    ]


def _log_rollup_keys() -> list[Column[object]]:
    return [
        Column("business_id", String(64), primary_key=True),
        Column("source", String(64), primary_key=True),
        Column("service", String(64), primary_key=True),
        Column("operation", String(200), primary_key=True),
        Column("level", String(16), primary_key=True),  # a log line's status class
    ]


api_metrics_hourly = _rollup_table("api_metrics_hourly", _api_rollup_keys())
api_metrics_daily = _rollup_table("api_metrics_daily", _api_rollup_keys())
integration_logs_hourly = _rollup_table("integration_logs_hourly", _log_rollup_keys())
integration_logs_daily = _rollup_table("integration_logs_daily", _log_rollup_keys())


# Of workflow_execution_logs, by started_at (migration 0020): kept by triggers, since
# an execution's row is updated as it finishes (db/workflow_rollups.py). "calls" are
# executions, "errors" the failed ones (error, crashed).
def _workflow_rollup_keys() -> list[Column[object]]:
    return [
        Column("workflow_id", String(64), primary_key=True),
        Column("workflow_name", String(300), primary_key=True),
        Column("status", String(32), primary_key=True),
    ]


workflow_executions_hourly = _rollup_table("workflow_executions_hourly", _workflow_rollup_keys())
workflow_executions_daily = _rollup_table("workflow_executions_daily", _workflow_rollup_keys())
