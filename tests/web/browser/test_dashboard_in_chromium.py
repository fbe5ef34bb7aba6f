"""The dashboard in Debian's Chromium, served by a real ``ops serve --run-jobs`` over the
sandbox, on SQLite and PostgreSQL: sign in with a token, every page renders (no console
error: a CSP violation would be one), a sync started with the button or through the API
appears on the syncs page without a reload, the health-round button runs a round, new
log lines stream in, the pages fit a phone, and signing out ends the session."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
from browser_helpers import Problems, Served
from playwright.sync_api import expect
from sqlalchemy import func, insert, select
from web_helpers import bearer, make_token, seed_rows

from masterops.db.tables import integration_logs, sync_runs

PAGES = {
    "/": "Overview",
    "/integrations": "Integrations",
    "/syncs": "Syncs",
    "/workflows": "Workflows",
    "/alerts": "Alerts",
    "/tasks": "Tasks",
    "/logs": "Logs",
}
HOSTILE = "<img src=x id=injected> & <b>bold</b>"
# Generous waits for a loaded CI machine: how long the browser may wait for something
# that must happen, never a measure of speed.
SYNC_WAIT_MS = 120_000


def sign_in(page: Any, served: Served, token: str) -> None:
    page.goto(served.url("/"))
    assert page.url.endswith("/signin")  # an anonymous browser is sent to sign in
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    page.wait_for_url(served.url("/"))
    assert page.inner_text("h1") == "Overview"


def mark_the_document(page: Any) -> None:
    """A flag on this document: still there later means the page was never reloaded."""
    page.evaluate("window.__stillHere = true")


def never_reloaded(page: Any) -> bool:
    return bool(page.evaluate("window.__stillHere === true"))


def test_sign_in_every_page_and_sign_out(
    served: Served, browser_page: tuple[Any, Problems]
) -> None:
    page, problems = browser_page
    seed_rows(served.engine, message=HOSTILE)
    sign_in(page, served, make_token(served.engine, "operate", name="ops-desk"))
    for path, title in PAGES.items():
        page.click(f"nav a[href='{path}']")
        page.wait_for_url(served.url(path))
        assert page.inner_text("h1") == title
        assert page.get_attribute(f"nav a[href='{path}']", "aria-current") == "page"
        # Text from the database is shown as text: no element was made from it.
        assert page.locator("#injected").count() == 0
    page.goto(served.url("/integrations"))
    page.wait_for_selector("#charts[data-drawn]", state="attached")
    assert page.get_attribute("#charts", "data-drawn") == "2", page.inner_text(
        "#charts"
    )  # hubspot and unleashed
    assert page.locator("#charts .chart canvas").count() == 2
    # The last 30 days per day, from the daily rollups: n8n's call of two days ago too.
    page.click("a[href='/integrations?period=30d']")
    page.wait_for_selector("#charts[data-drawn]", state="attached")
    assert page.get_attribute("#charts", "data-drawn") == "3", page.inner_text("#charts")
    assert page.locator("#charts .chart canvas").count() == 3
    page.goto(served.url("/syncs"))
    assert HOSTILE in page.inner_text("#runs")
    assert problems.seen == []
    page.click("header button:has-text('Sign out')")
    page.wait_for_url(served.url("/signin"))
    page.goto(served.url("/syncs"))
    assert page.url.endswith("/signin")


def test_a_sync_started_anywhere_appears_live(
    served: Served, browser_page: tuple[Any, Problems]
) -> None:
    page, problems = browser_page
    token = make_token(served.engine, "operate")
    sign_in(page, served, token)
    page.goto(served.url("/syncs"))
    assert "No sync has run yet" in page.inner_text("#runs")
    mark_the_document(page)
    # The button: enqueues the durable job, which this serve process runs.
    page.select_option("select[name=business]", "teelixir")
    page.select_option("select[name=entity]", "inventory")
    page.click("button:has-text('Sync now')")
    assert "inventory sync of teelixir enqueued" in page.inner_text("#sync-result .notice")
    page.wait_for_selector("#runs tr[data-status=succeeded]", timeout=SYNC_WAIT_MS)
    assert "teelixir" in page.inner_text("#runs tbody")
    # The API, as n8n would: the run shows on the open page too.
    started = httpx.post(
        served.url("/api/v1/jobs/sync"),
        json={"entity": "inventory", "business": "elevate"},
        headers=bearer(token),
    )
    assert started.status_code == 202, started.text
    succeeded = page.locator("#runs tbody tr[data-status=succeeded]")
    expect(succeeded).to_have_count(2, timeout=SYNC_WAIT_MS)
    assert "elevate" in page.inner_text("#runs tbody")
    assert never_reloaded(page)
    with served.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(sync_runs)).scalar_one()
    assert stored == page.locator("#runs tbody tr[data-status]").count() == 2
    assert problems.seen == []


def test_the_health_round_button_fills_the_matrix(
    served: Served, browser_page: tuple[Any, Problems]
) -> None:
    page, problems = browser_page
    sign_in(page, served, make_token(served.engine, "operate"))
    assert "No health checks" in page.inner_text("#matrix")
    mark_the_document(page)
    page.click("button:has-text('Run a health round')")
    notice = page.wait_for_selector("#round-result .notice")
    assert re.fullmatch(r"health round done: \d+ checks, \w+", notice.inner_text())
    # The matrix is polled: the round's checks appear without a reload.
    page.wait_for_selector("#matrix td.cell", timeout=SYNC_WAIT_MS)
    assert never_reloaded(page)
    businesses = page.locator("#matrix tbody th").all_inner_texts()
    assert {"teelixir", "elevate"} <= set(businesses)
    assert problems.seen == []


def test_new_log_lines_stream_in_and_a_read_token_gets_no_buttons(
    served: Served, browser_page: tuple[Any, Problems]
) -> None:
    page, problems = browser_page
    sign_in(page, served, make_token(served.engine, "read", "elevate"))
    assert page.locator("button:has-text('Run a health round')").count() == 0
    page.goto(served.url("/logs"))
    page.wait_for_selector("#tail-state:has-text('live')")
    mark_the_document(page)
    with served.engine.begin() as conn:
        conn.execute(
            insert(integration_logs),
            [
                {
                    "source": "sync",
                    "service": "unleashed",
                    "level": "error",
                    "message": f"{business} says {HOSTILE}",
                    "business_id": business,
                    "created_at": datetime.now(UTC),
                }
                for business in ("teelixir", "elevate")
            ],
        )
    row = page.wait_for_selector("#log tbody tr.lv-error")
    assert row.inner_text().split("\t")[-1].strip() == f"elevate says {HOSTILE}"
    assert page.locator("#injected").count() == 0
    assert "teelixir" not in page.inner_text("#log tbody")  # not this token's business
    assert never_reloaded(page)
    page.goto(served.url("/syncs"))
    assert page.locator("button:has-text('Sync now')").count() == 0
    assert problems.seen == []


def test_every_page_fits_a_phone(served: Served, chromium: Any) -> None:
    seed_rows(served.engine)
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        sign_in(page, served, make_token(served.engine, "read"))
        for path in PAGES:
            page.goto(served.url(path))
            # Wide tables scroll inside their own box; the page itself never scrolls sideways.
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, (path, overflow)
    finally:
        context.close()


def test_ops_serve_stops_on_sigint_while_a_log_stream_is_open(served: Served) -> None:
    """A browser left on the Logs page must not hold ``ops serve`` open on Ctrl-C (a
    stream lasts minutes): the serve process ends, cleanly, with the stream still open
    (the stream's generator is cancelled as the server shuts down)."""
    import signal
    import subprocess

    token = make_token(served.engine, "read")
    with (
        httpx.Client(headers=bearer(token), timeout=30) as client,
        client.stream("GET", served.url("/events/logs")) as stream,
    ):
        assert stream.status_code == 200
        first = next(stream.iter_lines())
        assert first == "retry: 2000"
        served.proc.send_signal(signal.SIGINT)
        try:
            # Far shorter than the stream's 5 minutes; generous for a loaded machine.
            served.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise AssertionError("ops serve kept running with a log stream open") from None
    assert served.proc.returncode == 0
