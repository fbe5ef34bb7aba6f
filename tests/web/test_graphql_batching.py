"""``/graphql`` reads a list of businesses and their related records in a number of SQL
statements that does not grow with the number of businesses (no query per business), and
each business still gets its own rows, newest first, up to its own ``limit``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from web_helpers import Web

from masterops.db.tables import (
    businesses,
    health_checks,
    integration_logs,
    sync_runs,
    workflow_execution_logs,
)
from sql_statements import recorded_statements

NESTED = """
{
  businesses {
    id name overall
    services { name health { status } }
    syncs(limit: 2) { entity status startedAt }
    workflows(hours: 48) { workflowId executions failures }
    workflowFailures(limit: 1) { executionId }
    errors(limit: 2) { message }
  }
}
"""


def _seed_business(engine: Engine, slug: str, now: datetime) -> None:
    """A business with a check, three sync runs, a workflow with two failed executions
    and three error lines: more of each than the query's limits take."""
    hours = [timedelta(hours=h) for h in (3, 2, 1)]
    with engine.begin() as conn:
        conn.execute(insert(businesses), {"id": slug, "name": slug.title(), "services": []})
        conn.execute(
            insert(health_checks),
            {
                "business_id": slug,
                "service": "hubspot",
                "status": "healthy",
                "message": "ok",
                "checked_at": now,
            },
        )
        conn.execute(
            insert(sync_runs),
            [
                {
                    "business_id": slug,
                    "entity": f"run-{i}",
                    "status": "succeeded",
                    "started_at": now - ago,
                }
                for i, ago in enumerate(hours)
            ],
        )
        conn.execute(
            insert(workflow_execution_logs),
            [
                {
                    "workflow_id": f"wf-{slug}",
                    "business_id": slug,
                    "execution_id": f"{slug}-{i}",
                    "status": "error" if i else "success",
                    "started_at": now - ago,
                }
                for i, ago in enumerate(hours)
            ],
        )
        conn.execute(
            insert(integration_logs),
            [
                {
                    "source": "integration",
                    "level": "error",
                    "message": f"{slug} error {i}",
                    "business_id": slug,
                    "created_at": now - ago,
                }
                for i, ago in enumerate(hours)
            ],
        )


async def _ask(web: Web) -> tuple[dict[str, Any], int]:
    with recorded_statements(web.engine) as seen:
        answer = await web.client.post("/graphql", json={"query": NESTED})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "errors" not in body, body
    return {b["id"]: b for b in body["data"]["businesses"]}, len(seen)


async def test_the_statements_do_not_grow_with_the_businesses(web: Web) -> None:
    now = datetime.now(UTC)
    for slug in ("b1", "b2"):
        _seed_business(web.engine, slug, now)
    two, few = await _ask(web)
    for slug in ("b3", "b4", "b5", "b6", "b7", "b8"):
        _seed_business(web.engine, slug, now)
    eight, many = await _ask(web)
    assert len(two) == 2 and len(eight) == 8
    assert 0 < many == few  # the recorder saw the reads, and no more for more businesses

    for slug, business in eight.items():
        assert business["name"] == slug.title() and business["overall"] == "healthy"
        assert [s["name"] for s in business["services"]] == ["hubspot"]
        assert [r["entity"] for r in business["syncs"]] == ["run-2", "run-1"]
        [workflow] = business["workflows"]
        assert (workflow["workflowId"], workflow["executions"], workflow["failures"]) == (
            f"wf-{slug}",
            3,
            2,
        )
        assert business["workflowFailures"] == [{"executionId": f"{slug}-2"}]
        assert [e["message"] for e in business["errors"]] == [f"{slug} error 2", f"{slug} error 1"]
