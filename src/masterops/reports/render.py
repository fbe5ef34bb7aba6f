"""A ``Report`` as text (a terminal or an email's plain part, at most 100 columns), HTML
(email-safe: tables and inline styles only, the trend as an image), CSV (one row per
figure) and JSON (``Report.to_dict``). Renderers only format: every figure is in the model.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from html import escape
from typing import Literal, get_args

from masterops.reports.chart import bar_chart_png
from masterops.reports.model import Report

ReportFormat = Literal["text", "html", "json", "csv"]
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)
TEXT_WIDTH = 100
#: The Content-ID the email gives the trend chart (``html(..., chart_cid=...)``).
CHART_CID = "orders-trend"


def _money(value: float, currency: str | None) -> str:
    return f"{value:,.2f}" + (f" {currency}" if currency else "")


def _cut(text: str | None, width: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# -- text -----------------------------------------------------------------------------


def text(report: Report, *, short: bool = False) -> str:
    """The report as plain text; ``short``: the few headline lines (``ops demo``, Slack)."""
    lines = [_cut(report.title, TEXT_WIDTH)]
    if short:
        return "\n".join(lines + list(_headline(report))) + "\n"
    lines.append("=" * min(len(lines[0]), TEXT_WIDTH))
    lines += _headline(report)
    o = report.orders
    if o.by_status:
        lines += ["", "Orders by status"]
        lines += [
            f"  {s.status:<20} {s.count:>6}  {_money(s.value, o.currency):>18}" for s in o.by_status
        ]
    lines += ["", f"Orders per day (last {len(o.trend)} days)"]
    top = max((d.orders for d in o.trend), default=0) or 1
    for d in o.trend:
        bar = "#" * round(40 * d.orders / top)
        lines.append(f"  {d.day.strftime('%a %d %b')}  {d.orders:>5}  {bar}")
    lines += ["", "Top products"]
    lines += [
        f"  {_cut(p.product_code, 20):<20} {_cut(p.description, 40):<40} "
        f"{_num(p.quantity):>8}  {_money(p.value, o.currency):>18}"
        for p in report.top_products
    ] or ["  no sales"]
    lines += [
        "",
        f"Low stock (available < {_num(report.low_stock_threshold)}): "
        f"{report.low_stock_total} product(s)",
    ]
    lines += [
        f"  {_cut(s.product_code, 20):<20} {_cut(s.description, 50):<50} {_num(s.available):>10}"
        for s in report.low_stock
    ]
    lines += ["", "Syncs"]
    lines += [
        f"  {s.entity:<12} {s.runs:>4} run(s), {s.failed_runs} failed, "
        f"{s.refused_items} item(s) refused; last {s.last_status}"
        + (f": {_cut(s.last_error, 40)}" if s.last_error else "")
        for s in report.syncs
    ] or ["  no sync ran"]
    lines += ["", "Workflows (n8n)"]
    lines += [
        f"  {_cut(w.workflow_name, 40):<40} {w.executions:>5} run(s) {w.failed:>4} failed "
        f"{w.success_rate:>6.1f} %" + (f"  {_cut(w.last_error, 25)}" if w.last_error else "")
        for w in report.workflows
    ] or ["  no executions"]
    lines += ["", "Errors by service"]
    lines += [
        f"  {e.service:<12} {e.errors:>5}  {_cut(e.last_message, 75)}" for e in report.errors
    ] or ["  none"]
    lines += ["", "API usage against quotas"]
    lines += [
        f"  {q.service:<12} {q.used:>9,} of {q.limit:>9,} per {q.window:<5} ({q.percent:.1f} %)"
        for q in report.quotas
    ] or ["  no metered service"]
    return (
        "\n".join(_cut(line, TEXT_WIDTH) if len(line) > TEXT_WIDTH else line for line in lines)
        + "\n"
    )


def _headline(report: Report) -> Iterator[str]:
    o = report.orders
    failed_syncs = sum(s.failed_runs for s in report.syncs)
    failed_runs = sum(w.failed for w in report.workflows)
    yield (
        f"orders {o.count} worth {_money(o.value, o.currency)}; "
        f"new customers {report.customers.new}; low stock {report.low_stock_total}"
    )
    yield (
        f"syncs {sum(s.runs for s in report.syncs)} ({failed_syncs} failed); "
        f"workflow runs {sum(w.executions for w in report.workflows)} ({failed_runs} failed); "
        f"errors {sum(e.errors for e in report.errors)}"
    )


# -- HTML -----------------------------------------------------------------------------

_TABLE = 'style="border-collapse:collapse;width:100%;max-width:640px;font-size:13px"'
_TH = 'style="text-align:left;border-bottom:1px solid #ccc;padding:4px 6px;color:#555"'
_TD = 'style="border-bottom:1px solid #eee;padding:4px 6px"'
_NUM = 'style="border-bottom:1px solid #eee;padding:4px 6px;text-align:right"'
_H2 = 'style="font-size:15px;margin:18px 0 6px 0;color:#222"'


def chart_png(report: Report) -> bytes:
    """The orders-per-day chart of ``report``."""
    return bar_chart_png([d.orders for d in report.orders.trend])


def html(report: Report, *, chart_cid: str | None = None) -> str:
    """A complete HTML document. The chart is ``cid:<chart_cid>`` when the email attaches
    it; otherwise a ``data:`` URI, so the file stands alone."""
    if chart_cid:
        src = f"cid:{chart_cid}"
    else:
        src = "data:image/png;base64," + base64.b64encode(chart_png(report)).decode()
    return _document(report.title, [_body(report, src)])


def _document(title: str, bodies: list[str]) -> str:
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#222;margin:0;padding:12px">\n'
        + '\n<hr style="border:0;border-top:2px solid #ccc;margin:24px 0">\n'.join(bodies)
        + "\n</body></html>\n"
    )


def _body(report: Report, src: str) -> str:
    o = report.orders
    parts = [
        f'<h1 style="font-size:18px;margin:0 0 4px 0">{escape(report.title)}</h1>',
        f'<p style="margin:0 0 8px 0;color:#666">Local days in {escape(report.period.timezone)}; '
        f"generated {escape(report.generated_at.strftime('%Y-%m-%d %H:%M UTC'))}</p>",
        f'<p style="margin:0">{"<br>".join(escape(line) for line in _headline(report))}</p>',
        f"<h2 {_H2}>Orders per day (last {len(o.trend)} days)</h2>",
        f'<img src="{src}" width="560" height="120" alt="Orders per day" '
        'style="display:block;border:0;max-width:100%">',
        _table(
            ["Day", "Orders", "Value"],
            [[d.day.strftime("%a %d %b"), d.orders, _money(d.value, o.currency)] for d in o.trend],
        ),
        f"<h2 {_H2}>Orders by status</h2>",
        _table(
            ["Status", "Orders", "Value"],
            [[s.status, s.count, _money(s.value, o.currency)] for s in o.by_status],
            empty="no orders",
        ),
        f"<h2 {_H2}>Top products</h2>",
        _table(
            ["Product", "Description", "Quantity", "Value"],
            [
                [p.product_code, p.description or "", _num(p.quantity), _money(p.value, o.currency)]
                for p in report.top_products
            ],
            empty="no sales",
        ),
        f"<h2 {_H2}>Low stock (available &lt; {_num(report.low_stock_threshold)}): "
        f"{report.low_stock_total}</h2>",
        _table(
            ["Product", "Description", "Available"],
            [[s.product_code, s.description or "", _num(s.available)] for s in report.low_stock],
            empty="none",
        ),
        f"<h2 {_H2}>Customers</h2>",
        _table(
            ["New (first order)", "Ordering"],
            [[report.customers.new, report.customers.ordering]],
        ),
        f"<h2 {_H2}>Syncs</h2>",
        _table(
            ["Entity", "Runs", "Failed", "Refused items", "Last", "Last error"],
            [
                [
                    s.entity,
                    s.runs,
                    s.failed_runs,
                    s.refused_items,
                    s.last_status or "",
                    s.last_error or "",
                ]
                for s in report.syncs
            ],
            empty="no sync ran",
        ),
        f"<h2 {_H2}>Workflows (n8n)</h2>",
        _table(
            ["Workflow", "Runs", "Failed", "Success", "Last error"],
            [
                [
                    w.workflow_name,
                    w.executions,
                    w.failed,
                    f"{w.success_rate:.1f} %",
                    w.last_error or "",
                ]
                for w in report.workflows
            ],
            empty="no executions",
        ),
        f"<h2 {_H2}>Errors by service</h2>",
        _table(
            ["Service", "Errors", "Last message"],
            [[e.service, e.errors, e.last_message or ""] for e in report.errors],
            empty="none",
        ),
        f"<h2 {_H2}>API usage against quotas</h2>",
        _table(
            ["Service", "Used", "Limit", "Per", "Share"],
            [
                [q.service, f"{q.used:,}", f"{q.limit:,}", q.window, f"{q.percent:.1f} %"]
                for q in report.quotas
            ],
            empty="no metered service",
        ),
    ]
    return "\n".join(parts)


def _table(headers: list[str], rows: list[list[object]], *, empty: str = "") -> str:
    if not rows:
        return f'<p style="color:#888;margin:0">{escape(empty)}</p>'
    head = "".join(f"<th {_TH}>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td {_NUM if isinstance(v, int | float) else _TD}>{escape(str(v))}</td>" for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f'<table {_TABLE} cellpadding="0" cellspacing="0"><tr>{head}</tr>{body}</table>'


# -- CSV and JSON -----------------------------------------------------------------------

CSV_COLUMNS = ("business_id", "period", "section", "item", "metric", "value")


def csv_text(reports: list[Report]) -> str:
    """One row per figure: (business, period, section, item, metric, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for report in reports:
        for section, item, metric, value in _figures(report):
            writer.writerow([report.business_id, report.period.key, section, item, metric, value])
    return out.getvalue()


def _figures(report: Report) -> Iterator[tuple[str, str, str, object]]:
    o = report.orders
    yield "orders", "all", "count", o.count
    yield "orders", "all", "value", o.value
    for s in o.by_status:
        yield "orders_by_status", s.status, "count", s.count
        yield "orders_by_status", s.status, "value", s.value
    for d in o.trend:
        yield "orders_per_day", d.day.isoformat(), "count", d.orders
    for p in report.top_products:
        yield "top_products", p.product_code, "quantity", p.quantity
        yield "top_products", p.product_code, "value", p.value
    yield "low_stock", "all", "count", report.low_stock_total
    for low in report.low_stock:
        yield "low_stock", low.product_code, "available", low.available
    yield "customers", "all", "new", report.customers.new
    yield "customers", "all", "ordering", report.customers.ordering
    for sync in report.syncs:
        yield "syncs", sync.entity, "runs", sync.runs
        yield "syncs", sync.entity, "failed_runs", sync.failed_runs
        yield "syncs", sync.entity, "refused_items", sync.refused_items
    for w in report.workflows:
        yield "workflows", w.workflow_name, "executions", w.executions
        yield "workflows", w.workflow_name, "failed", w.failed
        yield "workflows", w.workflow_name, "success_rate_pct", round(w.success_rate, 1)
    for e in report.errors:
        yield "errors", e.service, "errors", e.errors
    for q in report.quotas:
        yield "quotas", q.service, f"used_per_{q.window}", q.used
        yield "quotas", q.service, "limit", q.limit


def json_text(reports: list[Report]) -> str:
    return json.dumps([r.to_dict() for r in reports], indent=2) + "\n"


def render(reports: list[Report], fmt: ReportFormat) -> str:
    """Every report in ``fmt`` (text and HTML: one after another)."""
    if fmt == "json":
        return json_text(reports)
    if fmt == "csv":
        return csv_text(reports)
    if fmt == "html":
        if len(reports) == 1:
            return html(reports[0])
        bodies = [
            _body(r, "data:image/png;base64," + base64.b64encode(chart_png(r)).decode())
            for r in reports
        ]
        return _document(f"{reports[0].period.kind.capitalize()} reports", bodies)
    return "\n".join(text(r) for r in reports)
