"""Screenshots of every dashboard page, for docs/screenshots/ (checked in).

    .venv/bin/python tools/screenshots.py [--out docs/screenshots]

On a fresh state folder it runs ``ops demo`` (the embedded database and the in-process
sandbox: a health round, the syncs, the n8n execution history), resets the sandbox and
syncs Teelixir's orders again in full (HubSpot no longer has their contacts: refused
links, with their reasons, for the syncs page), adds a few tasks and queues a sync,
starts ``ops serve --run-jobs`` on a free port, signs in to the dashboard in Debian's
Chromium with an operate token, and saves each page at a desktop width, plus the overview
and the syncs at a phone's. Nothing here is a test: look at the pictures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# The browser tests' helpers: Chromium's path and ops serve in its own process.
sys.path[:0] = [str(ROOT / "tests" / "web" / "browser"), str(ROOT / "tests")]

from browser_helpers import chromium_path, start_serve, stop_serve  # noqa: E402

PAGES = {
    "overview": "/",
    "integrations": "/integrations",
    "syncs": "/syncs",
    "workflows": "/workflows",
    "alerts": "/alerts",
    "tasks": "/tasks",
    "logs": "/logs",
}
PHONE_PAGES = ("overview", "syncs")


def ops(home: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MASTEROPS_")}
    env["MASTEROPS_HOME"] = str(home)
    done = subprocess.run(
        [sys.executable, "-m", "masterops", *args],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # demo exits 1 when a sync failed: still pictures
        raise SystemExit(f"ops {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def seed(base: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for title, business, priority in (
        ("Reconcile Teelixir stock counts after the stocktake", "teelixir", 1),
        ("Check Elevate's HubSpot deal stages", "elevate", 2),
        ("Review the n8n order-intake workflow failures", "boo", 3),
    ):
        httpx.post(
            f"{base}/api/v1/tasks",
            json={"title": title, "business": business, "priority": priority},
            headers=headers,
        ).raise_for_status()
    httpx.post(
        f"{base}/api/v1/jobs/sync",
        json={"entity": "inventory", "business": "elevate"},
        headers=headers,
    ).raise_for_status()


def shoot(base: str, token: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        raise SystemExit("chromium is not installed (apt-get install -y chromium)")
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=args)
        for name, size, pages in (
            ("", {"width": 1280, "height": 860}, tuple(PAGES)),
            ("-phone", {"width": 390, "height": 844}, PHONE_PAGES),
        ):
            context = browser.new_context(viewport=size, is_mobile=bool(name))
            page = context.new_page()
            page.goto(f"{base}/signin")
            if not name:
                page.screenshot(path=str(out / "signin.png"))
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/")
            for key in pages:
                page.goto(base + PAGES[key])
                if key == "integrations":
                    page.wait_for_selector("#charts[data-drawn]", state="attached")
                if key == "logs":
                    page.wait_for_selector("#tail-state:has-text('live')")
                page.screenshot(path=str(out / f"{key}{name}.png"), full_page=True)
            context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mo-shots-") as folder:
        home = Path(folder)
        ops(home, "demo")
        ops(home, "sandbox", "reset", "--yes")
        ops(home, "sync", "orders", "--business", "teelixir", "--full")  # 1: items refused
        token = json.loads(
            ops(home, "tokens", "create", "--name", "screenshots", "--scope", "operate", "--json")
        )["token"]
        base, proc = start_serve(f"sqlite:///{home / 'masterops.db'}", home)
        try:
            seed(base, token)
            time.sleep(5)  # let the queued sync run, so the syncs page shows it
            shoot(base, token, out)
        finally:
            stop_serve(proc)
    print(f"wrote {len(list(out.glob('*.png')))} screenshots to {out}")


if __name__ == "__main__":
    main()
