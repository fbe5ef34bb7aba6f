"""/metrics speaks the Prometheus text format and reflects the database. (The dashboard's
pages: test_dashboard_pages.py and browser/.)"""

from __future__ import annotations

import re

import httpx
from web_helpers import Web, seed_rows, settings_for

from masterops.integrations.base import BreakerRegistry, BreakerSettings, FakeClock
from masterops.web import create_app

SAMPLE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_]\w*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$'
)
LABEL = re.compile(r'([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"')


SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}


def _family(name: str, typed: dict[str, str]) -> str:
    """The family a sample belongs to: its own name, or a counter's or histogram's with
    the suffix the format adds (``_bucket``, ``_sum``, ``_count``)."""
    if name in typed:
        return name
    for family, kind in typed.items():
        if any(name == family + suffix for suffix in SUFFIXES.get(kind, ())):
            return family
    return name


def parse(text: str) -> dict[str, dict[frozenset[tuple[str, str]], float]]:
    """A strict reading of the exposition: every sample must follow its family's HELP and
    TYPE lines; returns sample name (a family, or a histogram's ``_bucket``, ...) ->
    labels -> value."""
    assert text.endswith("\n")
    typed: dict[str, str] = {}
    helped: set[str] = set()
    families: dict[str, dict[frozenset[tuple[str, str]], float]] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            helped.add(line.split()[2])
        elif line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            assert kind in {"counter", "gauge", "histogram", "summary", "untyped"}
            assert name not in typed, f"{name} typed twice"
            typed[name] = kind
            families[name] = {}
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name = match.group(1)
            family = _family(name, typed)
            assert family in typed and family in helped, f"{name} has no TYPE/HELP before it"
            labels = frozenset(LABEL.findall(match.group(2) or ""))
            families.setdefault(name, {})[labels] = float(match.group(3))
    return families


def _labels(**labels: str) -> frozenset[tuple[str, str]]:
    return frozenset(labels.items())


async def test_metrics_parse_and_reflect_the_database(web: Web) -> None:
    empty = await web.client.get("/metrics")
    assert empty.status_code == 200
    assert empty.headers["content-type"].startswith("text/plain; version=0.0.4")
    before = parse(empty.text)
    assert before["masterops_webhook_inbox_pending"] == {frozenset(): 0}
    assert before["masterops_api_calls_24h"] == {}

    seed_rows(web.engine)
    metrics = parse((await web.client.get("/metrics")).text)
    assert metrics["masterops_api_calls_24h"] == {
        _labels(service="hubspot"): 2,
        _labels(service="unleashed"): 1,
    }
    assert metrics["masterops_api_errors_24h"][_labels(service="hubspot")] == 1
    assert metrics["masterops_health_status"] == {
        _labels(business="teelixir", service="hubspot"): 0,
        _labels(business="teelixir", service="unleashed"): 1,
    }
    assert metrics["masterops_webhook_inbox_pending"] == {frozenset(): 2}
    assert metrics["masterops_webhook_inbox_events"][_labels(status="failed")] == 1
    assert "masterops_breaker_state" not in metrics  # no runtime given


async def test_breaker_states_and_label_escaping(web: Web) -> None:
    registry = BreakerRegistry(FakeClock())
    registry.get("hubspot", "teelixir", BreakerSettings())
    odd = registry.get("n8n", 'a"b\\c', BreakerSettings(failure_threshold=1))
    admission = odd.try_admit()
    assert admission is not None
    odd.record(admission, "failure")
    app = create_app(web.engine, settings_for(web.accounts, breakers=registry))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, headers=web.client.headers) as client:
        text = (await client.get("http://ops/metrics")).text
    assert 'account="a\\"b\\\\c"' in text
    states = parse(text)["masterops_breaker_state"]
    assert states[_labels(service="hubspot", account="teelixir")] == 0
    assert states[_labels(service="n8n", account='a\\"b\\\\c')] == 2
