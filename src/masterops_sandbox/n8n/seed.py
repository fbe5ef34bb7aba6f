"""Seeded content: the four businesses' workflows, their tags and a week of executions.

Deterministic for a seed and a clock. The workflows mirror the seed's
``infra/n8n-workflows`` (stock sync from Unleashed, orders into HubSpot, reports,
contact sync); one workflow is *built to fail* (its Code node throws), so the
dashboard always has a live failure to show and ``POST /webhook/rhf/price-import``
answers 500. The history has a realistic share of failures (transient API errors,
a few crashes and cancellations), retries of some failures, and one run in progress.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass

from masterops_sandbox.accounts import BUSINESSES
from masterops_sandbox.n8n.runner import run_workflow, start_node, trigger_items
from masterops_sandbox.n8n.store import JSON, N8nStore, Workflow

DAY = 86_400.0
DASH = "\u2013"  # an en dash, as in the real workflow names
BASE = "n8n-nodes-base."
HISTORY_DAYS = 7
DEFAULT_EXECUTIONS = 600
SHORT_NAMES = {"teelixir": "Teelixir", "elevate": "Elevate", "boo": "BOO", "rhf": "RHF"}
FUNCTION_TAGS = ("inventory", "orders", "reports", "crm")


@dataclass(frozen=True)
class _Kind:
    """One kind of seeded workflow: how often it runs and how it fails."""

    key: str
    title: str
    tag: str
    weight: float  # share of the history
    duration: tuple[float, float]  # seconds
    failures: tuple[tuple[str, str], ...]  # (node, message) of transient errors


KINDS = (
    _Kind(
        "stock", "Unleashed stock sync", "inventory", 4.0, (2.0, 9.0),
        (
            ("Fetch stock (Unleashed)", "The service is receiving too many requests from you"),
            ("Fetch stock (Unleashed)", "503 - Service Unavailable"),
            ("Update HubSpot products", "The resource you are requesting could not be found"),
        ),
    ),
    _Kind(
        "orders", "order to HubSpot", "orders", 2.5, (0.3, 2.5),
        (
            ("Create deal", "Your request is invalid or could not be processed by the service"),
            ("Create deal", "The service is receiving too many requests from you"),
        ),
    ),
    _Kind(
        "contacts", "HubSpot contact sync", "crm", 1.5, (1.0, 6.0),
        (("Get contacts", "Authorization failed - please check your credentials"),),
    ),
    _Kind(
        "report", "Daily sales report", "reports", 0.15, (3.0, 15.0),
        (("Query Supabase", "connect ETIMEDOUT"),),
    ),
)  # fmt: skip
INACTIVE = {("elevate", "report"), ("rhf", "report"), ("rhf", "contacts")}


def seed_n8n(store: N8nStore, *, seed: int = 0, executions: int = DEFAULT_EXECUTIONS) -> None:
    rng = random.Random(f"n8n-seed:{seed}")
    now = store.now()
    tags = {name: store.create_tag(name) for name in (*SHORT_NAMES, *FUNCTION_TAGS)}
    for tag in tags.values():
        tag.created_at = tag.updated_at = round(now - 90 * DAY + rng.uniform(0, DAY), 3)
    plan: list[tuple[Workflow, _Kind | None]] = []
    for slug, _ in BUSINESSES:
        for kind in KINDS:
            wf = store.create_workflow(
                f"{SHORT_NAMES[slug]} {DASH} {kind.title}", *_graph(store, slug, kind.key), {}
            )
            wf.tag_ids = [tags[slug].id, tags[kind.tag].id]
            plan.append((wf, kind))
    broken = store.create_workflow(f"RHF {DASH} legacy price import", *_broken_graph(store), {})
    broken.tag_ids = [tags["rhf"].id, tags["inventory"].id]
    plan.append((broken, None))
    handler = store.create_workflow(f"Master-Ops {DASH} error handler", *_error_handler(), {})
    for wf in [*(w for w, _ in plan), handler]:
        wf.created_at = round(now - rng.uniform(30, 120) * DAY, 3)
        wf.updated_at = wf.shared_at = round(wf.created_at + rng.uniform(0, 20) * DAY, 3)
        for version_id, (name, nodes, connections, _) in list(wf.versions.items()):
            wf.versions[version_id] = (name, nodes, connections, wf.updated_at)
    for wf, planned in plan:
        slug = next(s for s in SHORT_NAMES if wf.name.startswith(SHORT_NAMES[s]))
        if planned is None or (slug, planned.key) not in INACTIVE:
            store.activate(wf)
            wf.activated_at = wf.updated_at
    _history(store, rng, plan, executions, now)


def _node(name: str, kind: str, x: int, params: JSON | None = None, **extra: object) -> JSON:
    version = {"scheduleTrigger": 1.2, "webhook": 2, "set": 3.4, "code": 2, "httpRequest": 4.2}
    short = kind.rsplit(".", 1)[-1]
    return {
        "name": name,
        "type": kind,
        "typeVersion": version.get(short, 1),
        "position": [x, 300],
        "parameters": params or {},
        **extra,
    }


def _chain(*nodes: JSON) -> JSON:
    return {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(nodes)
    }


def _schedule(minutes: int) -> JSON:
    rule = {"field": "minutes", "minutesInterval": minutes} if minutes < 60 else {"field": "hours"}
    return {"rule": {"interval": [rule]}}


def _assign(name: str, value: str) -> JSON:
    return {"id": name, "name": name, "value": value, "type": "string"}


def _http(name: str, x: int, url: str, method: str = "GET") -> JSON:
    return _node(name, BASE + "httpRequest", x, {"url": url, "method": method})


def _graph(store: N8nStore, slug: str, key: str) -> tuple[list[JSON], JSON]:
    unleashed = "https://api.unleashedsoftware.com"
    supabase = "https://supabase.example/rest/v1"
    if key == "orders":
        hook = {"path": f"{slug}/order-created", "httpMethod": "POST", "responseMode": "lastNode"}
        fields = [
            _assign("orderId", "={{ $json.body.orderId }}"),
            _assign("business", slug),
            _assign("status", "received"),
        ]
        nodes = [
            _node("Order webhook", BASE + "webhook", 0, hook, webhookId=store.new_uuid()),
            _node("Normalise order", BASE + "set", 220, {"assignments": {"assignments": fields}}),
            _node(
                "Create deal", BASE + "hubspot", 440, {"resource": "deal", "operation": "create"}
            ),
        ]
    elif key == "stock":
        mapping = "return $input.all().map(i => ({ json: i.json }));"
        nodes = [
            _node("Every 15 minutes", BASE + "scheduleTrigger", 0, _schedule(15)),
            _http("Fetch stock (Unleashed)", 220, f"{unleashed}/StockOnHand"),
            _node("Map stock levels", BASE + "code", 440, {"jsCode": mapping}),
            _node("Update HubSpot products", BASE + "hubspot", 660, {"resource": "product"}),
        ]
    elif key == "contacts":
        nodes = [
            _node("Every hour", BASE + "scheduleTrigger", 0, _schedule(60)),
            _node("Get contacts", BASE + "hubspot", 220, {"resource": "contact"}),
            _http("Upsert to Supabase", 440, f"{supabase}/customers", "POST"),
        ]
    else:
        morning = {"rule": {"interval": [{"field": "days", "triggerAtHour": 7}]}}
        subject = {"subject": f"{SHORT_NAMES[slug]} sales"}
        nodes = [
            _node("Every morning", BASE + "scheduleTrigger", 0, morning),
            _http("Query Supabase", 220, f"{supabase}/rpc/daily_sales", "POST"),
            _node("Send report", BASE + "emailSend", 440, subject),
        ]
    return nodes, _chain(*nodes)


def _broken_graph(store: N8nStore) -> tuple[list[JSON], JSON]:
    code = (
        "const rows = $input.all();\n"
        "throw new Error('Price file format changed: missing column unit_price');"
    )
    hook = {"path": "rhf/price-import", "httpMethod": "POST", "responseMode": "lastNode"}
    nodes = [
        _node("Price file webhook", BASE + "webhook", 0, hook, webhookId=store.new_uuid()),
        _node("Parse price file", BASE + "code", 220, {"jsCode": code}),
        _http("Update Unleashed prices", 440, "https://api.unleashedsoftware.com/Products", "POST"),
    ]
    return nodes, _chain(*nodes)


def _error_handler() -> tuple[list[JSON], JSON]:
    nodes = [
        _node("Error Trigger", BASE + "errorTrigger", 0),
        _node("Alert operator", BASE + "emailSend", 220, {"subject": "Workflow failed"}),
    ]
    return nodes, _chain(*nodes)


def _history(
    store: N8nStore,
    rng: random.Random,
    plan: list[tuple[Workflow, _Kind | None]],
    total: int,
    now: float,
) -> None:
    """``total`` executions over the last week, ids in time order, retries after failures."""
    weights = [(kind.weight if kind else 0.3) * (1.0 if wf.active else 0.05) for wf, kind in plan]
    broken_error = {wf.id: _built_to_fail_error(wf) for wf, kind in plan if kind is None}
    events: list[tuple[float, int, JSON]] = []  # (started, order, fields)
    start = now - HISTORY_DAYS * DAY
    while len(events) < max(total - 1, 0):
        wf, kind = rng.choices(plan, weights)[0]
        started = rng.uniform(start, now - 120)
        low, high = kind.duration if kind else (0.1, 0.4)
        mode = "webhook" if _is_webhook(wf) else "trigger"
        if not wf.active or rng.random() < 0.03:
            mode = "manual"
        status, node, text = "success", None, None
        draw = rng.random()
        if kind is None:
            status, (node, text) = "error", broken_error[wf.id]
        elif draw < 0.09:
            status, (node, text) = "error", rng.choice(kind.failures)
        elif draw < 0.105:
            status = "crashed"
        elif draw < 0.12:
            status = "canceled"
        fields: JSON = {
            "wf": wf.id, "mode": mode, "status": status, "node": node, "text": text,
            "stopped": started + rng.uniform(low, high), "retry_of": None,
        }  # fmt: skip
        events.append((started, len(events), fields))
        if status == "error" and rng.random() < 0.3 and len(events) < total - 1:
            later = started + rng.uniform(120, 1200)
            fixed = kind is not None and rng.random() < 0.8
            retry: JSON = {
                **fields, "mode": "retry", "retry_of": len(events) - 1,
                "status": "success" if fixed else "error",
                "node": None if fixed else node, "text": None if fixed else text,
                "stopped": later + rng.uniform(low, high),
            }  # fmt: skip
            events.append((later, len(events), retry))
    events.sort(key=lambda e: (e[0], e[1]))
    ids: dict[int, int] = {}
    for started, order, f in events:
        original = ids.get(f["retry_of"]) if f["retry_of"] is not None else None
        execution = store.add_execution(
            f["wf"],
            mode=f["mode"],
            status=f["status"],
            created_at=round(started - 0.015, 3),
            started_at=round(started, 3),
            stopped_at=round(f["stopped"], 3),
            retry_of=original,
            error_message=f["text"],
            error_node=f["node"],
        )
        ids[order] = execution.id
        if original is not None and f["status"] == "success":
            store.executions[original].retry_success_id = execution.id
    if total > 0:
        live = next(wf for wf, kind in plan if kind is not None and kind.key == "stock")
        store.add_execution(
            live.id, mode="trigger", status="running", started_at=round(now - 4, 3), stopped_at=None
        )


def _is_webhook(wf: Workflow) -> bool:
    return any(n.get("type") == "n8n-nodes-base.webhook" for n in wf.nodes)


def _built_to_fail_error(wf: Workflow) -> tuple[str, str]:
    """The (node, message) the runner reports for a workflow built to fail."""
    start = start_node(wf.nodes)
    assert start is not None
    outcome = run_workflow(
        wf.nodes, wf.connections, start=start, items=trigger_items(start, 0), started_ms=0,
        source="webhook",
    )  # fmt: skip
    error = outcome.error or {}
    return str((error.get("node") or {}).get("name")), str(error.get("message"))
