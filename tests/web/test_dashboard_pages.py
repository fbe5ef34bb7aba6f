"""The dashboard's pages in-process: every page renders what the database holds, escaped;
a business-scoped token sees only its businesses on every page and on the log stream;
buttons need a session, its CSRF token and the operate scope; static files are cached.
(Tests/web/browser drives the same pages in a real Chromium.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, insert, select
from web_helpers import BASE_URL, Web, bearer, make_token, seed_rows, settings_for

from masterops.db.tables import (
    alert_history,
    api_metrics,
    health_checks,
    integration_logs,
    sync_runs,
    tasks,
)
from masterops.web import create_app
from masterops.web.pages.readings import p95
from masterops.web.pages.render import ago

PAGES = ("/", "/integrations", "/syncs", "/workflows", "/alerts", "/tasks", "/logs")
HOSTILE = "<script>alert('x')</script> & more"
ESCAPED = "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"


async def signed_in(client: httpx.AsyncClient, token: str) -> str:
    """Sign ``client`` in with ``token`` as a browser would; returns the session's CSRF
    token (read from the page's own sign-out form)."""
    form = await client.get("/signin")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = await client.post("/signin", data={"csrf": csrf.group(1), "token": token})
    assert answer.status_code == 303, answer.text
    page = await client.get("/tasks")
    session_csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert session_csrf is not None
    return session_csrf.group(1)


def browser(web: Web) -> httpx.AsyncClient:
    """A client with no bearer token: only what a browser's cookies give it."""
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web.app), base_url=BASE_URL)


def seed_more(engine: Engine) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(  # the platform's own check: not a business's service
            insert(health_checks),
            [
                {
                    "business_id": "platform",
                    "service": "database",
                    "status": "healthy",
                    "message": "ok",
                    "checked_at": now,
                }
            ],
        )
        conn.execute(
            insert(alert_history),
            [
                {
                    "business_id": b,
                    "service": "hubspot",
                    "previous_status": "healthy",
                    "status": "down",
                    "channel": "log",
                    "message": f"{b} hubspot down {HOSTILE}",
                    "delivered": True,
                    "created_at": now,
                }
                for b in ("teelixir", "elevate")
            ],
        )
        conn.execute(
            insert(tasks),
            [
                {
                    "title": f"check {b} stock",
                    "business": b,
                    "priority": 2,
                    "status": "pending",
                    "current_step": 0,
                    "retry_count": 0,
                    "max_retries": 3,
                    "created_at": now,
                    "updated_at": now,
                }
                for b in ("teelixir", "elevate")
            ],
        )
        conn.execute(
            insert(api_metrics),
            [
                {
                    "service": "unleashed",
                    "endpoint": "/StockOnHand",
                    "method": "GET",
                    "status_code": 200,
                    "success": True,
                    "duration_ms": 300.0,
                    "business_id": "elevate",
                    "created_at": now - timedelta(minutes=3),
                }
            ],
        )


def test_human_times_and_p95() -> None:
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert ago(None, now) == "never"
    assert ago(now - timedelta(seconds=3), now) == "just now"
    assert ago(now - timedelta(seconds=42), now) == "42 s ago"
    assert ago(now - timedelta(minutes=3, seconds=59), now) == "3 min ago"
    assert ago(now - timedelta(hours=5), now) == "5 h ago"
    assert ago(now - timedelta(days=2, hours=23), now) == "2 d ago"
    assert ago(now + timedelta(minutes=10), now) == "in 10 min"
    assert p95([]) is None
    assert p95([5.0]) == 5.0
    assert p95([float(i) for i in range(1, 101)]) == 95.0
    assert p95([float(i) for i in range(1, 21)]) == 19.0


async def test_an_anonymous_browser_is_sent_to_sign_in(web: Web) -> None:
    async with browser(web) as anonymous:
        for path in PAGES:
            answer = await anonymous.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, "/signin"), path
        polled = await anonymous.get("/partials/runs", headers={"HX-Request": "true"})
        assert (polled.status_code, polled.headers["hx-redirect"]) == (200, "/signin")
        stream = await anonymous.get("/events/logs")
        assert stream.status_code == 401 and stream.json()["error"] == "missing_token"


async def test_every_page_renders_the_data_escaped(web: Web) -> None:
    for path in PAGES:  # empty database: each page says so instead of failing
        answer = await web.client.get(path)
        assert answer.status_code == 200, (path, answer.text)
    seed_rows(web.engine, message=HOSTILE)
    seed_more(web.engine)
    for path in PAGES:
        answer = await web.client.get(path)
        assert answer.status_code == 200, path
        html = answer.text
        assert answer.headers["content-type"].startswith("text/html")
        assert "<script>alert" not in html, path
        # No inline script anywhere, no resource from elsewhere, viewport for phones.
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r'(src|href)="https?://', html), path
        assert re.search(r"\son[a-z]+=", html) is None, path
        assert '<meta name="viewport"' in html
    overview = (await web.client.get("/")).text
    assert "teelixir" in overview and ESCAPED in overview
    assert "platform" not in overview  # the matrix is businesses x their three services
    assert 'class="badge s-degraded"' in overview and "badge stale" not in overview
    syncs = (await web.client.get("/syncs")).text
    assert ESCAPED in syncs and 'data-status="failed"' in syncs and 'data-status="running"' in syncs
    workflows = (await web.client.get("/workflows")).text
    assert ESCAPED in workflows and "0.0%" in workflows
    alerts = (await web.client.get("/alerts")).text
    assert "elevate hubspot down" in alerts and ESCAPED in alerts
    logs = (await web.client.get("/logs")).text
    assert ESCAPED in logs and "synced" in logs
    warn_only = (await web.client.get("/logs", params={"level": "warn"})).text
    assert ESCAPED in warn_only and "synced" not in warn_only
    series = (await web.client.get("/integrations/series.json")).json()
    assert len(series["x"]) == 24
    hubspot = series["services"]["hubspot"]
    assert (sum(hubspot["calls"]), sum(hubspot["errors"])) == (2, 1)
    assert max(v for v in hubspot["p95_ms"] if v is not None) == 90.0
    # 30 days, per UTC day, from the daily rollups: n8n's call of two days ago too.
    month = (await web.client.get("/integrations/series.json?period=30d")).json()
    assert len(month["x"]) == 30 and month["unit"] == "day"
    totals = {s: (sum(v["calls"]), sum(v["errors"])) for s, v in month["services"].items()}
    assert totals == {"hubspot": (2, 1), "n8n": (1, 0), "unleashed": (1, 0)}
    assert month["services"]["hubspot"]["p95_ms"][-1] is not None
    page_30d = (await web.client.get("/integrations?period=30d")).text
    assert "series.json?period=30d" in page_30d and "Last 24 hours" in page_30d


async def test_times_show_in_the_configured_zone_and_old_checks_as_stale(engine: Engine) -> None:
    seed_rows(engine)
    app = create_app(engine, settings_for({}, timezone="Australia/Melbourne", stale_after_s=0.0))
    headers = bearer(make_token(engine, "read"))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
    ) as client:
        html = (await client.get("/syncs")).text
        overview = (await client.get("/")).text
    assert overview.count("badge stale") == 3  # the three checked services (boo's disabled too)
    assert "Times in Australia/Melbourne" in html
    assert re.search(r'<time datetime="[^"]+" title="[-\d]+ [\d:]+ AEDT">', html)


async def test_a_business_scoped_token_sees_only_its_businesses(web: Web) -> None:
    seed_rows(web.engine)
    seed_more(web.engine)
    scoped = make_token(web.engine, "read", "elevate", name="elevate-reader")
    async with browser(web) as client:
        client.headers.update(bearer(scoped))
        for path in PAGES:
            html = (await client.get(path)).text
            body = html.split("</header>", 1)[1]
            assert "teelixir" not in body, path
        assert "elevate" in (await client.get("/")).text
        assert "check elevate stock" in (await client.get("/tasks")).text
        series = (await client.get("/integrations/series.json")).json()
        assert list(series["services"]) == ["unleashed"]
        refused = await client.get("/logs", params={"business": "teelixir"})
        assert (refused.status_code, refused.json()["error"]) == (403, "business_not_allowed")
        refused = await client.get("/events/logs", params={"business": "teelixir"})
        assert refused.status_code == 403
        nul = await client.get("/logs", params={"service": "a\x00b"})
        assert nul.status_code == 400 and "NUL" in nul.json()["message"]


async def _stream(web: Web, token: str, url: str, **headers: str) -> str:
    """One whole log stream (it ends after ``log_stream_s``: the in-process transport
    hands over a body only once it is complete)."""
    app = create_app(web.engine, settings_for(web.accounts, log_stream_s=1.5))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers={**bearer(token), **headers},
    ) as client:
        answer = await client.get(url)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    return answer.text


async def test_the_log_stream_sends_new_lines_the_viewer_may_see(web: Web) -> None:
    seed_rows(web.engine)
    with web.engine.connect() as conn:
        last = max(conn.execute(select(integration_logs.c.id)).scalars())
    with web.engine.begin() as conn:
        conn.execute(
            insert(integration_logs),
            [
                {
                    "source": "sync",
                    "service": "hubspot",
                    "level": "error",
                    "message": f"{b} line {HOSTILE}",
                    "business_id": b,
                    "created_at": datetime.now(UTC),
                }
                for b in ("teelixir", "elevate", "elevate")
            ],
        )
    scoped = make_token(web.engine, "read", "elevate")
    seen = await _stream(web, scoped, f"/events/logs?after={last}")
    assert "teelixir line" not in seen and seen.count("event: log") == 2
    assert f"id: {last + 2}\n" in seen
    # The message is JSON-encoded data, never markup: the page adds it as text.
    assert '"message": "elevate line <script>' in seen
    # A reconnecting EventSource sends the last id it saw: the stream resumes there.
    resumed = await _stream(web, scoped, "/events/logs?after=0", **{"Last-Event-ID": str(last + 2)})
    assert resumed.count("event: log") == 1 and f"id: {last + 3}\n" in resumed
    errors_only = await _stream(web, scoped, f"/events/logs?after={last}&level=error&service=n8n")
    assert "event: log" not in errors_only


async def test_buttons_need_a_session_its_csrf_token_and_operate(web: Web) -> None:
    reader, operator = make_token(web.engine, "read"), make_token(web.engine, "operate")
    async with browser(web) as client:
        csrf = await signed_in(client, reader)
        assert "Add task" not in (await client.get("/tasks")).text  # no buttons for read
        refused = await client.post("/tasks", data={"csrf": csrf, "title": "x"})
        assert (refused.status_code, refused.json()["error"]) == (403, "insufficient_scope")
    async with browser(web) as client:
        csrf = await signed_in(client, operator)
        page = (await client.get("/tasks")).text
        assert "Add task" in page
        forged = await client.post("/tasks", data={"csrf": "not-it", "title": "x"})
        assert (forged.status_code, forged.json()["error"]) == (403, "csrf_failed")
        added = await client.post(
            "/tasks",
            data={"csrf": csrf, "title": HOSTILE, "business": "boo", "priority": "1"},
            headers={"HX-Request": "true"},
        )
        assert added.status_code == 200 and ESCAPED in added.text
        assert added.text.startswith('<div id="tasks">')  # the fragment htmx swaps in
        with web.engine.connect() as conn:
            task_id = conn.execute(select(tasks.c.id).where(tasks.c.business == "boo")).scalar()
        done = await client.post(f"/tasks/{task_id}/complete", data={"csrf": csrf})
        assert (done.status_code, done.headers["location"]) == (303, "/tasks")
        with web.engine.connect() as conn:
            status = conn.execute(select(tasks.c.status).where(tasks.c.id == task_id)).scalar()
        assert status == "completed"
        htmx = {"HX-Request": "true"}
        bad = await client.post("/tasks", data={"csrf": csrf, "priority": "9"}, headers=htmx)
        assert bad.status_code == 400 and "a task needs a title" in bad.text
        missing = await client.post("/tasks/999999/complete", data={"csrf": csrf})
        assert missing.status_code == 404
        # The server runs no connectors here: the round button says so, it does not fail.
        round_ = await client.post(
            "/actions/health-round", data={"csrf": csrf}, headers={"HX-Request": "true"}
        )
        assert round_.status_code == 503 and "no connectors" in round_.text
        # A bearer token reads pages but gets no buttons: it has no session to guard them.
        client.headers.update(bearer(operator))
        client.cookies.clear()
        assert "Add task" not in (await client.get("/tasks")).text


async def test_a_scoped_operator_cannot_touch_another_business(web: Web) -> None:
    seed_more(web.engine)
    scoped = make_token(web.engine, "operate", "elevate")
    with web.engine.connect() as conn:
        theirs = conn.execute(select(tasks.c.id).where(tasks.c.business == "teelixir")).scalar()
    async with browser(web) as client:
        csrf = await signed_in(client, scoped)
        other = await client.post(
            "/tasks", data={"csrf": csrf, "title": "x", "business": "teelixir"}
        )
        assert (other.status_code, other.json()["error"]) == (403, "business_not_allowed")
        hidden = await client.post(f"/tasks/{theirs}/complete", data={"csrf": csrf})
        assert hidden.status_code == 404
        htmx = {"HX-Request": "true"}
        for form, wanted in (
            ({"entity": "inventory", "business": "teelixir"}, "may not sync business"),
            ({"entity": "executions"}, "needs an unlimited token"),
        ):
            sync = await client.post("/actions/sync", data={"csrf": csrf, **form}, headers=htmx)
            assert sync.status_code == 403 and wanted in sync.text
        # Its own business passes the checks; this server has no job queue to start it on.
        own = {"csrf": csrf, "entity": "inventory", "business": "elevate"}
        sync = await client.post("/actions/sync", data=own, headers=htmx)
        assert sync.status_code == 503 and "starts no jobs" in sync.text


async def test_static_files_are_cached_and_the_csp_holds(web: Web) -> None:
    for path in (
        "/static/app.css",
        "/static/vendor/htmx.min.js",
        "/static/vendor/uPlot.iife.min.js",
        "/static/logs.js",
    ):
        answer = await web.client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["cache-control"] == "public, max-age=3600"
        assert answer.headers["x-content-type-options"] == "nosniff"
    page = await web.client.get("/")
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert (await web.client.get("/static/nothing.js")).status_code == 404


@pytest.mark.parametrize("zone", ["Mars/Olympus", ""])
def test_an_unknown_time_zone_is_a_one_line_error(tmp_path, zone: str) -> None:  # type: ignore[no-untyped-def]
    from masterops.config import ConfigError, load_config

    (tmp_path / "masterops.toml").write_text(f'[dashboard]\ntimezone = "{zone}"\n')
    with pytest.raises(ConfigError) as caught:
        load_config({}, cwd=tmp_path)
    assert "unknown time zone" in str(caught.value) and "\n" not in str(caught.value)
    (tmp_path / "masterops.toml").write_text('[dashboard]\ntimezone = "Australia/Melbourne"\n')
    assert load_config({}, cwd=tmp_path).dashboard.timezone == "Australia/Melbourne"


async def test_a_runs_refused_items_show_with_their_reasons(web: Web) -> None:
    """A run's refused items (``sync_refusals``) show under it: how many, the reasons
    grouped with their counts, and the first items by kind and key."""
    from masterops.db.tables import sync_refusals

    seed_rows(web.engine)
    with web.engine.begin() as conn:
        failed = conn.execute(
            select(sync_runs.c.id).where(sync_runs.c.status == "failed")
        ).scalar_one()
        conn.execute(
            insert(sync_refusals),
            [
                {
                    "run_id": failed,
                    "business_id": "teelixir",
                    "entity": "inventory",
                    "item_kind": "product",
                    "item_key": "SKU-1",
                    "category": "validation",
                    "status_code": 400,
                    "reason": f"Property values were not valid {HOSTILE}",
                    "created_at": datetime.now(UTC),
                }
            ],
        )
    html = (await web.client.get("/syncs")).text
    assert "1 refused item</strong>" in html
    assert "SKU-1" in html and f"Property values were not valid {ESCAPED}" in html
    scoped = make_token(web.engine, "read", "elevate")
    async with browser(web) as client:
        client.headers.update(bearer(scoped))
        assert "SKU-1" not in (await client.get("/syncs")).text


async def test_the_matrix_counts_a_days_calls_per_business_and_service(web: Web) -> None:
    now = datetime.now(UTC)
    with web.engine.begin() as conn:
        conn.execute(
            insert(api_metrics),
            [
                {
                    "service": "hubspot",
                    "endpoint": "/crm/v3/objects/deals",
                    "method": "POST",
                    "status_code": 500 if i in (3, 7) else 200,
                    "success": i not in (3, 7),
                    "duration_ms": float(i),
                    "business_id": "teelixir",
                    # One call is older than a day: counted in neither figure.
                    "created_at": now - (timedelta(days=2) if i == 21 else timedelta(minutes=i)),
                }
                for i in range(1, 22)
            ],
        )
    html = (await web.client.get("/")).text
    row = html.split('<th scope="row">teelixir</th>', 1)[1].split("</tr>", 1)[0]
    hubspot = row.split('data-service="hubspot"', 1)[1].split("</td>", 1)[0]
    assert "10.0%" in hubspot and "of 20" in hubspot  # 2 of the day's 20 calls failed
    assert "19 ms" in hubspot  # the p95 of 1..20 ms, interpolated as /api/v1/stats does
    assert "1 min ago" in hubspot  # the last success: the call of a minute ago
    assert "unknown" in hubspot  # no health check yet, only calls
    unleashed = row.split('data-service="unleashed"', 1)[1].split("</td>", 1)[0]
    assert "- <span" in unleashed and "of 0" in unleashed
