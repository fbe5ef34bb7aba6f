"""The suggested Prometheus rules (infra/prometheus/alerts.yml) name only metric families
that ``/metrics`` really serves: a renamed family fails here, not silently in production."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import yaml
from sqlalchemy import Engine

from masterops.config import load_config
from masterops.db.api_tokens import create_token
from masterops.observability.events import TelemetryHub
from masterops.observability.prometheus import PrometheusTelemetry
from masterops.operations.services import open_services
from masterops.web import WebSettings, create_app

RULES = Path(__file__).resolve().parents[2] / "infra" / "prometheus" / "alerts.yml"
# Prometheus's own: `up` per target; PromQL functions and keywords are not metrics.
PROMETHEUS_OWN = {"up"}
PROMQL_WORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "sum", "max", "min", "rate",
    "increase", "time", "clamp_min", "histogram_quantile", "le", "job", "status", "service",
    "masterops",
}  # fmt: skip


async def _served_families(engine: Engine, home: Path) -> set[str]:
    """The families of a scrape of ``ops serve`` as it runs: with its telemetry and the
    breakers of its connectors (the sandbox's here)."""
    with engine.begin() as conn:
        _, token = create_token(conn, name="prometheus", scope="read")
    config = load_config({}, cwd=home)
    with open_services(config, TelemetryHub(), engine) as services:
        settings = WebSettings(breakers=services.runtime.breakers, telemetry=PrometheusTelemetry())
        app = create_app(engine, settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), headers={"Authorization": f"Bearer {token}"}
        ) as client:
            answer = await client.get("http://ops/metrics")
    assert answer.status_code == 200
    names = set(re.findall(r"(?m)^# TYPE (\S+) (\w+)$", answer.text))
    families = set()
    for name, kind in names:
        families.add(name)
        if kind == "counter":
            families.add(f"{name}_total")
        if kind == "histogram":
            families |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return families


async def test_every_rule_names_served_families(engine: Engine, tmp_path: Path) -> None:
    served = await _served_families(engine, tmp_path)
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    assert len(rules) >= 8
    for rule in rules:
        expression = re.sub(r'\{[^}]*\}|"[^"]*"|\[[^\]]*\]', "", rule["expr"])
        names = set(re.findall(r"[a-z_][a-z0-9_]*", expression)) - PROMQL_WORDS
        assert names, rule["alert"]
        unknown = names - served - PROMETHEUS_OWN
        assert unknown == set(), f"{rule['alert']}: {unknown}"
        assert rule["labels"]["severity"] in ("warning", "critical")
        assert rule["annotations"]["summary"]
