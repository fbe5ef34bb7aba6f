"""``ops sandbox`` as a subprocess on loopback, and ``ops`` commands run against it as
real processes: what a ``kill -9`` test needs (the services' state outlives the killed
process, and the killed process really dies)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from loopback_ports import free_port_block


@contextmanager
def loopback_sandbox(cwd: Path, *, faults: str = "") -> Iterator[dict[str, Any]]:
    """``ops sandbox`` serving on loopback until the block ends; yields its description
    (URLs and credentials)."""
    port = free_port_block()
    args = [sys.executable, "-m", "masterops", "sandbox", "--port", str(port), "--json"]
    if faults:
        args += ["--faults", faults]
    proc = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while True:
            line = proc.stdout.readline()
            assert line, "ops sandbox ended before printing its description"
            lines.append(line)
            if line.rstrip() == "}":
                break
        info: dict[str, Any] = json.loads("".join(lines))
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{info['urls']['n8n']}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the sandbox never answered"
                time.sleep(0.1)
        yield info
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def business_env(info: dict[str, Any], slug: str) -> dict[str, str]:
    """The MASTEROPS_<B>_* variables that point one business at the loopback sandbox."""
    account = info["businesses"][slug]
    prefix = f"MASTEROPS_{slug.upper()}_"
    return {
        prefix + "HUBSPOT_TOKEN": account["hubspot"]["token"],
        prefix + "HUBSPOT_URL": info["urls"]["hubspot"],
        prefix + "UNLEASHED_API_ID": account["unleashed"]["api_id"],
        prefix + "UNLEASHED_API_KEY": account["unleashed"]["api_key"],
        prefix + "UNLEASHED_URL": info["urls"]["unleashed"],
        prefix + "N8N_URL": info["urls"]["n8n"],
        prefix + "N8N_API_KEY": info["n8n_api_key"],
    }


def hubspot_records(
    info: dict[str, Any], slug: str, object_type: str, prop: str
) -> list[dict[str, Any]]:
    """Every ``object_type`` record of the business's HubSpot account, with ``prop``."""
    token = info["businesses"][slug]["hubspot"]["token"]
    out: list[dict[str, Any]] = []
    after: str | None = None
    with httpx.Client(base_url=info["urls"]["hubspot"], timeout=10) as client:
        while True:
            params = {"limit": "100", "properties": prop}
            if after:
                params["after"] = after
            page = client.get(
                f"/crm/v3/objects/{object_type}",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            page.raise_for_status()
            body = page.json()
            out.extend(body["results"])
            after = body.get("paging", {}).get("next", {}).get("after")
            if not after:
                return out
