"""Fixtures for the dashboard in a real browser: ``ops serve --run-jobs`` in its own
process on a free loopback port (on the test database: SQLite and PostgreSQL), and
Debian's Chromium driven by Playwright (never a downloaded browser).

Every test here skips, saying why, when Playwright or Chromium is missing; `.ci/run`
installs Chromium with apt so CI always runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import Problems, Served, chromium_path, dbos_schema, start_serve, stop_serve
from sqlalchemy import Engine, create_engine, text


def _skip_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    if chromium_path() is None:
        return "chromium is not installed (apt-get install -y chromium; .ci/run does)"
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = _skip_reason()
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def served(engine: Engine, tmp_path: Path) -> Iterator[Served]:
    url = engine.url.render_as_string(hide_password=False)
    base, proc = start_serve(url, tmp_path / "home")
    try:
        yield Served(base, engine, proc)
    finally:
        stop_serve(proc)
        schema = dbos_schema(url)
        if schema is not None:
            admin = create_engine(url)
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One Chromium for a module's tests (each test has its own context: no shared
    cookies)."""
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    assert path is not None
    with sync_playwright() as playwright:
        # Root (CI's container) cannot use Chromium's sandbox.
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = playwright.chromium.launch(executable_path=path, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[tuple[Any, Problems]]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)  # a loaded CI machine; not a speed check
    page = context.new_page()
    problems = Problems()
    problems.watch(page)
    try:
        yield page, problems
    finally:
        context.close()
