"""The JSON API under /api/v1: each endpoint, its filters, and clear 400s for bad input."""

from __future__ import annotations

from web_helpers import Web, seed_rows


async def test_health_is_the_latest_status_per_pair_and_the_worst_overall(web: Web) -> None:
    empty = (await web.client.get("/api/v1/health")).json()
    assert empty == {"overall": "unknown", "services": []}
    seed_rows(web.engine)
    body = (await web.client.get("/api/v1/health")).json()
    assert body["overall"] == "degraded"  # "disabled" does not count, the old "down" is gone
    pairs = {(s["business_id"], s["service"]): s["status"] for s in body["services"]}
    assert pairs == {
        ("boo", "n8n"): "disabled",
        ("teelixir", "hubspot"): "healthy",
        ("teelixir", "unleashed"): "degraded",
    }
    assert body["services"][1]["checked_at"].endswith("+00:00")


async def test_logs_filters_like_ops_logs(web: Web) -> None:
    seed_rows(web.engine)
    every = (await web.client.get("/api/v1/logs")).json()
    assert every["count"] == 3
    assert [r["message"] for r in every["logs"]] == ["retrying", "token refused", "synced"]
    cases = {
        "service=hubspot": 2,
        "service=hubspot&level=error": 1,
        "source=sync": 1,
        "business=teelixir&since=1h": 1,
        "since=2h&limit=1": 1,
        "until=1h": 1,
        "level=debug": 0,
    }
    for query, count in cases.items():
        assert (await web.client.get(f"/api/v1/logs?{query}")).json()["count"] == count, query
    newest = (await web.client.get("/api/v1/logs?limit=1")).json()["logs"]
    assert [r["message"] for r in newest] == ["synced"]


async def test_bad_query_values_are_400_naming_the_parameter(web: Web) -> None:
    cases = {
        "/api/v1/logs?level=loud": "level: Input should be 'debug', 'info', 'warn' or 'error'",
        "/api/v1/logs?since=yesterday": "since:",
        "/api/v1/logs?limit=0": "limit: Input should be greater than or equal to 1",
        "/api/v1/logs?limit=ten": "limit: Input should be a valid integer",
        "/api/v1/logs?servce=hubspot": "unknown query parameter(s) servce",
        "/api/v1/stats?hours=0": "hours: Input should be greater than 0",
        "/api/v1/stats?hours=nan": "hours: Input should be a finite number",
        "/api/v1/stats?hours=x": "hours: Input should be a valid number",
        "/api/v1/sync/runs?limit=-1": "limit: Input should be greater than or equal to 1",
        "/api/v1/webhooks/inbox?status=done": "status: Input should be 'pending', 'processed'",
        "/api/v1/health?verbose=1": "unknown query parameter(s) verbose",
    }
    for path, message in cases.items():
        answer = await web.client.get(path)
        assert answer.status_code == 400, path
        assert answer.json()["error"] == "bad_request"
        assert message in answer.json()["message"], (path, answer.json())
    missing = await web.client.get("/api/v1/nothing")
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


async def test_stats_use_the_window(web: Web) -> None:
    seed_rows(web.engine)
    day = (await web.client.get("/api/v1/stats")).json()
    assert day["window_hours"] == 24
    assert {a["service"]: a["total_calls"] for a in day["apis"]} == {"hubspot": 2, "unleashed": 1}
    assert day["workflows"][0]["failed_executions"] == 1
    sources = {i["source"]: i["total_logs"] for i in day["integrations"]}
    assert sources == {"integration": 2, "sync": 1}
    week = (await web.client.get("/api/v1/stats?hours=72")).json()
    assert {a["service"] for a in week["apis"]} == {"hubspot", "unleashed", "n8n"}
    hour = (await web.client.get("/api/v1/stats?hours=1")).json()
    assert {i["source"]: i["total_logs"] for i in hour["integrations"]} == {
        "integration": 1,
        "sync": 1,
    }


async def test_sync_runs_and_the_webhook_inbox(web: Web) -> None:
    seed_rows(web.engine)
    runs = (await web.client.get("/api/v1/sync/runs")).json()
    assert [(r["business_id"], r["status"]) for r in runs["runs"]] == [
        ("elevate", "running"),
        ("teelixir", "failed"),
    ]
    only = (await web.client.get("/api/v1/sync/runs?business=teelixir&entity=inventory")).json()
    assert only["count"] == 1 and only["runs"][0]["written"] == 2
    inbox = (await web.client.get("/api/v1/webhooks/inbox")).json()
    assert inbox["count"] == 4
    pending = (await web.client.get("/api/v1/webhooks/inbox?status=pending")).json()
    assert sorted(e["event_id"] for e in pending["events"]) == ["0", "1"]
    assert pending["events"][0]["payload_json"]["eventId"] in (0, 1)
    failed = (await web.client.get("/api/v1/webhooks/inbox?status=failed&limit=1")).json()
    assert [e["event_id"] for e in failed["events"]] == ["3"]
