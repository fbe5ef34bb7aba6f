"""``ops report`` end to end: the real entry point on a seeded database (both backends),
every format, and the bad inputs that must be one clear line."""

from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest
from sqlalchemy import Engine

ARGS = ("report", "daily", "--business", "teelixir", "--date", "2026-04-05")


def test_text_fits_100_columns_and_shows_every_section(seeded: Engine, ops) -> None:
    result = ops(*ARGS)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Teelixir daily report: Sun 05 Apr 2026"
    assert max(len(line) for line in lines) <= 100
    for heading in ("Orders by status", "Orders per day (last 7 days)", "Top products",
                    "Low stock (available < 10): 2 product(s)", "Syncs", "Workflows (n8n)",
                    "Errors by service", "API usage against quotas"):  # fmt: skip
        assert heading in lines
    assert "orders 2 worth 150.00 AUD; new customers 1; low stock 2" in lines
    assert any(line.split()[:3] == ["inventory", "2", "run(s),"] for line in lines)


def test_json_is_the_model(seeded: Engine, ops) -> None:
    result = ops(*ARGS, "--json")
    assert result.exit_code == 0, result.stderr
    [report] = json.loads(result.stdout)["reports"]
    assert report["period"] == {
        "kind": "daily",
        "key": "2026-04-05",
        "timezone": "Australia/Melbourne",
        "first_day": "2026-04-05",
        "last_day": "2026-04-05",
        "start": "2026-04-04T13:00:00+00:00",
        "end": "2026-04-05T14:00:00+00:00",
    }
    assert (report["orders"]["count"], report["orders"]["value"]) == (2, 150.0)
    assert report["workflows"][0]["success_rate_pct"] == 66.7
    # --format json is the list of reports alone (no "sent" wrapper).
    assert json.loads(ops(*ARGS, "--format", "json").stdout)[0]["title"] == report["title"]


def test_csv_has_one_row_per_figure(seeded: Engine, ops) -> None:
    result = ops(*ARGS, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    figures = {(r["section"], r["item"], r["metric"]): r["value"] for r in rows}
    assert figures[("orders", "all", "count")] == "2"
    assert figures[("orders_by_status", "Deleted", "count")] == "1"
    assert figures[("low_stock", "LIO-1", "available")] == "0.0"
    assert figures[("errors", "hubspot", "errors")] == "2"
    assert {r["business_id"] for r in rows} == {"teelixir"}


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))


def test_html_is_email_safe_with_its_chart_inline(seeded: Engine, ops) -> None:
    result = ops(*ARGS, "--format", "html")
    assert result.exit_code == 0, result.stderr
    parsed = _Html()
    parsed.feed(result.stdout)
    # No stylesheet, no script: inline styles and tables only.
    assert not {"style", "script", "link"} & set(parsed.tags)
    assert parsed.tags.count("table") >= 8
    [chart] = parsed.images
    assert (chart["src"] or "").startswith("data:image/png;base64,iVBORw0KGgo")
    assert "Teelixir daily report: Sun 05 Apr 2026" in result.stdout


def test_every_business_by_default(seeded: Engine, ops) -> None:
    result = ops("report", "weekly", "--date", "2026-04-05", "--json")
    reports = json.loads(result.stdout)["reports"]
    assert [r["business_id"] for r in reports] == ["teelixir", "elevate", "boo", "rhf"]
    assert [r["orders"]["count"] for r in reports] == [4, 1, 0, 0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "monthly"), "KIND must be one of daily, weekly, got 'monthly'"),
        (("report", "daily", "--business", "nope"), "--business: unknown business 'nope'"),
        (("report", "daily", "--date", "5/4/2026"), "--date must be a day as YYYY-MM-DD"),
        (("report", "daily", "--date", "2999-01-01"), "--date: 2999-01-01 is in the future"),
        (("report", "daily", "--format", "pdf"), "--format must be one of text, html, json, csv"),
    ],
)
def test_bad_input_is_one_line(ops_cli, args: tuple[str, ...], message: str) -> None:
    result = ops_cli(*args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
