"""Access to the HTTP service: tokens on every route but the receivers and probes, JSON
refusals with reasons, scopes, business-scoped rows, rate limits, security headers,
masked personal data, and the dashboard's sign-in with CSRF."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy import insert
from web_helpers import BASE_URL, Web, bearer, make_token, seed_rows, settings_for

from masterops.db.tables import webhook_inbox
from masterops.web import WebSettings, create_app

READ_ROUTES = (
    "/api/v1/health",
    "/api/v1/logs",
    "/api/v1/stats",
    "/api/v1/api-metrics",
    "/api/v1/sync/runs",
    "/api/v1/webhooks/inbox",
    "/api/v1/tasks",
    "/api/v1/workflows",
    "/api/v1/workflows/failures",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/metrics",
)


def _anonymous(web: Web) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web.app), base_url=BASE_URL)


async def test_every_route_needs_a_token_but_receivers_and_probes(web: Web) -> None:
    async with _anonymous(web) as client:
        for path in READ_ROUTES:
            answer = await client.get(path)
            assert answer.status_code == 401, path
            assert answer.json()["error"] == "missing_token"
            assert answer.headers["www-authenticate"] == "Bearer"
        created = await client.post("/api/v1/tasks", json={"title": "x"})
        assert created.status_code == 401
        for header, code in [
            ("Basic dXNlcjpwYXNz", "invalid_authorization"),
            ("Bearer mo_not-a-token", "invalid_token"),
        ]:
            answer = await client.get("/api/v1/health", headers={"Authorization": header})
            assert (answer.status_code, answer.json()["error"]) == (401, code)
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
        # The dashboard sends a browser to the sign-in form instead.
        page = await client.get("/")
        assert page.status_code == 303 and page.headers["location"] == "/signin"
    for path in READ_ROUTES:
        assert (await web.client.get(path)).status_code == 200, path


async def test_a_revoked_token_stops_at_once(web: Web) -> None:
    from masterops.db.api_tokens import revoke_token

    token = make_token(web.engine, "read", name="short-lived")
    assert (await web.client.get("/api/v1/health", headers=bearer(token))).status_code == 200
    with web.engine.begin() as conn:
        assert revoke_token(conn, "short-lived")
    answer = await web.client.get("/api/v1/health", headers=bearer(token))
    assert (answer.status_code, answer.json()["error"]) == (401, "invalid_token")


async def test_a_narrower_scope_is_403_with_a_reason(web: Web) -> None:
    reader = bearer(make_token(web.engine, "read"))
    answer = await web.client.post("/api/v1/tasks", json={"title": "restock"}, headers=reader)
    assert answer.status_code == 403
    assert answer.json()["error"] == "insufficient_scope"
    assert "operate" in answer.json()["message"]
    operator = bearer(make_token(web.engine, "operate"))
    made = await web.client.post("/api/v1/tasks", json={"title": "restock"}, headers=operator)
    assert made.status_code == 201 and made.json()["title"] == "restock"
    task_id = made.json()["id"]
    changed = await web.client.patch(
        f"/api/v1/tasks/{task_id}", json={"status": "in_progress"}, headers=operator
    )
    assert changed.json()["status"] == "in_progress"
    logged = await web.client.post(
        f"/api/v1/tasks/{task_id}/logs", json={"message": "half done"}, headers=operator
    )
    assert logged.status_code == 201
    log = (await web.client.get(f"/api/v1/tasks/{task_id}/logs", headers=reader)).json()
    messages = [e["message"] for e in log["logs"]]
    assert messages[-2:] == ["status pending -> in_progress", "half done"]
    bad = await web.client.post("/api/v1/tasks", json={"title": ""}, headers=operator)
    assert bad.status_code == 400 and bad.json()["message"].startswith("body.title")
    extra = await web.client.post("/api/v1/tasks", json={"title": "a", "x": 1}, headers=operator)
    assert extra.status_code == 400
    for body in ({"title": "a\u0000b"}, {"title": "a", "plan": ["x\u0000"]}):
        nul = await web.client.post("/api/v1/tasks", json=body, headers=operator)
        assert nul.status_code == 400 and "NUL" in nul.json()["message"], nul.text
    missing = await web.client.get("/api/v1/tasks/999999", headers=reader)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")


def _inbox_event(event_id: int, business: str, email: str) -> dict[str, Any]:
    from datetime import UTC, datetime

    return {
        "source": "hubspot",
        "event_id": str(event_id),
        "business_id": business,
        "payload_json": {
            "eventId": event_id,
            "objectId": 77,
            "propertyName": "email",
            "propertyValue": email,
            "properties": {"firstname": "Ann", "phone": "+61 400 000 000", "note": email},
        },
        "received_at": datetime.now(UTC),
        "status": "failed",
        "attempts": 1,
        "error": f"no contact {email}",
    }


async def test_a_business_scoped_token_sees_only_its_rows(web: Web) -> None:
    seed_rows(web.engine)
    with web.engine.begin() as conn:
        conn.execute(
            insert(webhook_inbox),
            [_inbox_event(90, "elevate", "bob@example.com")],
        )
    teelixir = bearer(make_token(web.engine, "admin", "teelixir"))
    for path, key in [
        ("/api/v1/logs", "logs"),
        ("/api/v1/sync/runs", "runs"),
        ("/api/v1/webhooks/inbox", "events"),
        ("/api/v1/health", "services"),
    ]:
        everything = (await web.client.get(path)).json()[key]
        mine = (await web.client.get(path, headers=teelixir)).json()[key]
        assert {r["business_id"] for r in everything} > {"teelixir"}, path
        assert mine and {r["business_id"] for r in mine} == {"teelixir"}, path
        other = await web.client.get(path, params={"business": "elevate"}, headers=teelixir)
        assert other.status_code in (400, 403), path  # /health takes no business filter
        if other.status_code == 403:
            assert other.json()["error"] == "business_not_allowed"
    for path in ("/api/v1/stats", "/metrics"):
        answer = await web.client.get(path, headers=teelixir)
        assert (answer.status_code, answer.json()["error"]) == (403, "business_scoped"), path
    # The dashboard shows it its own businesses (tests/web/test_dashboard_pages.py).
    assert (await web.client.get("/", headers=teelixir)).status_code == 200
    two = bearer(make_token(web.engine, "read", "teelixir", "elevate"))
    runs = (await web.client.get("/api/v1/sync/runs", headers=two)).json()["runs"]
    assert sorted(r["business_id"] for r in runs) == ["elevate", "teelixir"]
    # A task of another business does not exist for this token.
    other_task = await web.client.post("/api/v1/tasks", json={"title": "t", "business": "elevate"})
    task_id = other_task.json()["id"]
    assert (await web.client.get(f"/api/v1/tasks/{task_id}", headers=teelixir)).status_code == 404
    refused = await web.client.post("/api/v1/tasks", json={"title": "t"}, headers=teelixir)
    assert refused.status_code == 403


async def test_the_inbox_masks_personal_data_unless_admin(web: Web) -> None:
    with web.engine.begin() as conn:
        conn.execute(insert(webhook_inbox), [_inbox_event(1, "teelixir", "ann@example.com")])
    reader = bearer(make_token(web.engine, "read"))
    masked = await web.client.get("/api/v1/webhooks/inbox", headers=reader)
    assert masked.status_code == 200
    for secret in ("ann@example.com", "Ann", "+61 400 000 000"):
        assert secret not in masked.text
    event = masked.json()["events"][0]
    assert event["payload_json"]["objectId"] == 77 and event["event_id"] == "1"
    assert event["error"] == "no contact ***"
    admin = (await web.client.get("/api/v1/webhooks/inbox")).text
    assert "ann@example.com" in admin and "+61 400 000 000" in admin


async def test_each_token_has_its_own_rate_limit(web: Web) -> None:
    clock = [1000.0]
    settings = settings_for(
        web.accounts, rate_limit_per_minute=60, rate_limit_burst=3, monotonic=lambda: clock[0]
    )
    app = create_app(web.engine, settings)
    first, second = make_token(web.engine, "read"), make_token(web.engine, "read")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        codes = [(await c.get("/api/v1/health", headers=bearer(first))).status_code for _ in "1234"]
        assert codes == [200, 200, 200, 429]
        limited = await c.get("/api/v1/health", headers=bearer(first))
        assert limited.json()["error"] == "rate_limited"
        assert limited.headers["retry-after"] == "1"
        assert (await c.get("/api/v1/health", headers=bearer(second))).status_code == 200
        clock[0] += 1.0  # a second later one more request is allowed
        assert (await c.get("/api/v1/health", headers=bearer(first))).status_code == 200


async def test_security_headers_and_hsts_behind_a_proxy(web: Web) -> None:
    for path in ("/healthz", "/api/v1/health", "/", "/signin"):
        answer = await web.client.get(path)
        assert answer.headers["x-content-type-options"] == "nosniff", path
        assert answer.headers["x-frame-options"] == "DENY"
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert "strict-transport-security" not in answer.headers
    page = (await web.client.get("/")).text
    assert "<script" in page and re.search(r"<script(?![^>]*\bsrc=)", page) is None  # files only
    proxied = create_app(web.engine, settings_for(web.accounts, trust_proxy=True))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxied)) as client:
        answer = await client.get("http://ops/healthz")
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


async def test_dashboard_sign_in_with_csrf_and_sign_out(web: Web) -> None:
    token = make_token(web.engine, "read")
    async with _anonymous(web) as browser:
        form = await browser.get("/signin")
        csrf = _csrf(form.text)
        cookie = form.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
        # A form posted from elsewhere has no matching CSRF cookie and field.
        forged = await browser.post(
            "/signin", data={"token": token, "csrf": "guess"}, follow_redirects=False
        )
        assert (forged.status_code, forged.json()["error"]) == (403, "csrf_failed")
        wrong = await browser.post("/signin", data={"token": "mo_wrong", "csrf": csrf})
        assert wrong.status_code == 401 and "unknown, revoked or expired" in wrong.text
        csrf = _csrf(wrong.text)
        signed = await browser.post("/signin", data={"token": token, "csrf": csrf})
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        session = signed.headers["set-cookie"].lower()
        assert "mo_session=" in session and "httponly" in session
        assert "samesite=strict" in session and token.lower() not in session
        page = await browser.get("/")
        assert page.status_code == 200 and "Sign out" in page.text
        assert (await browser.get("/api/v1/health")).status_code == 200  # reads: yes
        acted = await browser.post("/api/v1/tasks", json={"title": "x"})
        assert acted.status_code == 401  # actions through the API need the bearer token
        bad_out = await browser.post("/signout", data={"csrf": "guess"})
        assert bad_out.status_code == 403
        out = await browser.post("/signout", data={"csrf": _csrf(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/signin"
        assert (await browser.get("/")).status_code == 303
        assert (await browser.get("/api/v1/health")).status_code == 401


async def test_the_openapi_document_lists_every_route(web: Web) -> None:
    document = (await web.client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": "/api/v1"}]
    paths = set(document["paths"])
    assert {p.removeprefix("/api/v1") for p in READ_ROUTES[:9]} <= paths
    assert "/tasks/{task_id}/logs" in paths
    assert "HTTPBearer" in document["components"]["securitySchemes"]
    docs = await web.client.get("/api/v1/docs")
    assert "/api/v1/tasks/{task_id}" in docs.text and "<script" not in docs.text


async def test_an_operate_token_runs_a_health_round(engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from masterops.config import load_config
    from masterops.db.tables import health_checks
    from masterops.observability.events import TelemetryHub
    from masterops.operations.services import open_services

    config = load_config({}, cwd=tmp_path)  # no credentials: the sandbox, in-process
    hub = TelemetryHub()
    with open_services(config, hub, engine) as services:
        app = create_app(engine, WebSettings(services=services, hub=hub))
        reader, operator = make_token(engine, "read"), make_token(engine, "operate")
        scoped = make_token(engine, "operate", "teelixir")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            url = "/api/v1/health/rounds"
            refused = await client.post(url, headers=bearer(reader))
            assert (refused.status_code, refused.json()["error"]) == (403, "insufficient_scope")
            other = await client.post(url, json={"business": "elevate"}, headers=bearer(scoped))
            assert other.status_code == 403
            ran = await client.post(
                url, json={"business": "teelixir", "send_alerts": False}, headers=bearer(scoped)
            )
            assert ran.status_code == 200, ran.text
            assert ran.json()["checked"] > 0 and ran.json()["status"] in ("healthy", "degraded")
            health = await client.get("/api/v1/health", headers=bearer(reader))
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(health_checks)).scalar_one()
    assert stored == ran.json()["checked"]
    checked = {s["business_id"] for s in health.json()["services"]}
    assert "teelixir" in checked and not checked & {"elevate", "boo"}
    bare = create_app(engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url=BASE_URL) as c:
        answer = await c.post("/api/v1/health/rounds", headers=bearer(operator))
    assert (answer.status_code, answer.json()["error"]) == (503, "not_configured")


async def test_an_oversized_api_body_is_refused_after_reading_about_the_limit(web: Web) -> None:
    from masterops.web.bodylimit import API_BODY_LIMIT

    chunk = 64 * 1024
    pulled = 0

    async def body():  # type: ignore[no-untyped-def]
        nonlocal pulled
        for _ in range(50 * 1024 * 1024 // chunk):  # 50 MiB if read whole
            pulled += chunk
            yield b" " * chunk

    async with _anonymous(web) as client:  # before any token is looked at
        answer = await client.post("/api/v1/tasks", content=body())
    assert (answer.status_code, answer.json()["error"]) == (413, "too_large")
    assert pulled <= API_BODY_LIMIT + chunk
