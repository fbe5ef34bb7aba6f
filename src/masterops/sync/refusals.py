"""Why a sync run's items were refused, kept in ``sync_refusals`` next to the run.

A push stage hands every refused item to ``common.log_refused``, which calls
``record_refusals``: one insert per call, into the run that ``recorded_run`` announced
through ``recording_refusals`` (a context variable, so no stage passes a run id around).
Outside a recorded run nothing is written. Recording never fails a run: a refusal that
cannot be stored is still counted in ``sync_runs.failed`` and named in the log warning.

The reads (``run_refusals``, ``top_reasons``, ``refused_counts``, ``latest_runs``) serve
``ops sync status``/``show`` and the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select

from masterops.db.tables import sync_refusals, sync_runs
from masterops.integrations.base import ErrorCategory, IntegrationError

__all__ = [
    "KEY_LIMIT",
    "REASON_LIMIT",
    "Refusal",
    "clean_text",
    "latest_runs",
    "record_refusals",
    "recording_refusals",
    "refusal",
    "refused_counts",
    "run_refusals",
    "top_reasons",
    "with_reasons",
]

#: The longest reason kept: HubSpot's messages are a line or two; a longer one is cut.
REASON_LIMIT = 500
#: ``sync_refusals.item_key`` is VARCHAR(200).
KEY_LIMIT = 200
#: What a control character in a reason becomes (as ``web/nul.py`` does for NUL): a
#: reason is printed on one line, and PostgreSQL's text cannot hold a NUL.
REPLACEMENT = "\ufffd"
#: ``sync_refusals.item_kind`` and ``category`` are VARCHAR(32).
_SHORT_LIMIT = 32


@dataclass(frozen=True, slots=True)
class Refusal:
    """One item a service refused: the key an operator finds it by (an Unleashed Guid, a
    HubSpot id; never personal data), what it was ("product", "contact", "deal",
    "contact -> company link"...), the error's category ("UNKNOWN" when the answer gave
    none) and HTTP status, and the service's reason."""

    key: str
    what: str
    category: str | None
    reason: str
    status_code: int | None = None


def refusal(key: object, what: str, error: BaseException | None) -> Refusal:
    """The refusal of item ``key`` (a ``what``) by ``error`` (None: the service answered
    nothing for it)."""
    if isinstance(error, IntegrationError):
        # The message alone: category and status have their own columns, and the same
        # message for many items is what groups them ("Contact 946 does not exist").
        return Refusal(str(key), what, error.category.value, error.message, error.status)
    if error is None:
        return Refusal(str(key), what, ErrorCategory.UNKNOWN.value, "no result")
    return Refusal(str(key), what, None, str(error) or type(error).__name__)


def clean_text(text: str, limit: int) -> str:
    """``text`` with every control character replaced by U+FFFD, cut to ``limit``
    characters (the cut marked with an ellipsis)."""
    cleaned = "".join(REPLACEMENT if _is_control(ch) else ch for ch in text)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "\u2026"


def _is_control(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F


@dataclass(frozen=True, slots=True)
class _Run:
    engine: Engine
    run_id: int
    entity: str


_current_run: ContextVar[_Run | None] = ContextVar("masterops_sync_refusals_run", default=None)


@contextmanager
def recording_refusals(engine: Engine, run_id: int, entity: str) -> Iterator[None]:
    """While open, ``record_refusals`` writes into run ``run_id`` of ``entity``. Tasks
    started inside (``asyncio.gather``, ``to_thread``) inherit it with the context."""
    token = _current_run.set(_Run(engine, run_id, entity))
    try:
        yield
    finally:
        _current_run.reset(token)


def record_refusals(
    business_id: str, refused: Sequence[Refusal], *, redact: Callable[[str], str]
) -> str | None:
    """Store ``refused`` in the current run, in one insert, each reason passed through
    ``redact`` (secrets masked), cleaned and bounded. Returns None when stored or when
    no run is recording; else why they could not be stored (never raises: a refusal's
    reason is worth less than the run that met it)."""
    run = _current_run.get()
    if run is None or not refused:
        return None
    rows = [
        {
            "run_id": run.run_id,
            "business_id": business_id,
            "entity": run.entity,
            "item_kind": clean_text(item.what, _SHORT_LIMIT),
            "item_key": clean_text(redact(item.key) or "?", KEY_LIMIT),
            "category": None if item.category is None else clean_text(item.category, _SHORT_LIMIT),
            "status_code": item.status_code,
            "reason": clean_text(redact(item.reason), REASON_LIMIT),
        }
        for item in refused
    ]
    try:
        with run.engine.begin() as conn:
            conn.execute(insert(sync_refusals), rows)
    except Exception as exc:  # the run goes on; the warning says so
        return f"the reasons could not be stored: {type(exc).__name__}"
    return None


# -- reads --------------------------------------------------------------------------------


def run_refusals(
    conn: Connection, run_id: int, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """The refused items of run ``run_id``, in the order they were refused."""
    r = sync_refusals
    stmt = (
        select(r.c.item_kind, r.c.item_key, r.c.category, r.c.status_code, r.c.reason)
        .where(r.c.run_id == run_id)
        .order_by(r.c.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [dict(row._mapping) for row in conn.execute(stmt)]


def refused_counts(conn: Connection, run_ids: Sequence[int]) -> dict[int, int]:
    """How many refused items each of ``run_ids`` recorded (runs with none are absent)."""
    if not run_ids:
        return {}
    r = sync_refusals
    stmt = (
        select(r.c.run_id, func.count()).where(r.c.run_id.in_(list(run_ids))).group_by(r.c.run_id)
    )
    return {int(run_id): int(count) for run_id, count in conn.execute(stmt)}


def top_reasons(
    conn: Connection, run_ids: Sequence[int], *, per_run: int = 3
) -> dict[int, list[dict[str, Any]]]:
    """Per run, its ``per_run`` most frequent reasons with their counts, most frequent
    first (then alphabetically, so the answer is stable)."""
    if not run_ids:
        return {}
    r = sync_refusals
    count = func.count().label("count")
    stmt = (
        select(r.c.run_id, r.c.reason, count)
        .where(r.c.run_id.in_(list(run_ids)))
        .group_by(r.c.run_id, r.c.reason)
        .order_by(r.c.run_id, count.desc(), r.c.reason)
    )
    grouped: dict[int, list[dict[str, Any]]] = {}
    for run_id, reason, n in conn.execute(stmt):
        reasons = grouped.setdefault(int(run_id), [])
        if len(reasons) < per_run:
            reasons.append({"reason": reason, "count": int(n)})
    return grouped


def latest_runs(
    conn: Connection,
    *,
    business_ids: Sequence[str] | None = None,
    entity: str | None = None,
) -> list[dict[str, Any]]:
    """The newest run of each (business, entity), ordered by business then entity;
    ``business_ids`` limits it to those businesses."""
    s = sync_runs
    newest = select(func.max(s.c.id).label("id")).group_by(s.c.business_id, s.c.entity)
    if business_ids is not None:
        newest = newest.where(s.c.business_id.in_(list(business_ids)))
    if entity is not None:
        newest = newest.where(s.c.entity == entity)
    stmt = (
        select(s).where(s.c.id.in_(newest.scalar_subquery())).order_by(s.c.business_id, s.c.entity)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]


def with_reasons(
    conn: Connection, runs: Sequence[Mapping[str, Any]], *, per_run: int = 3
) -> list[dict[str, Any]]:
    """``runs`` each with ``refused_count`` and its ``top_reasons``."""
    ids = [int(run["id"]) for run in runs]
    counts = refused_counts(conn, ids)
    reasons = top_reasons(conn, ids, per_run=per_run)
    return [
        {
            **run,
            "refused_count": counts.get(int(run["id"]), 0),
            "top_reasons": reasons.get(int(run["id"]), []),
        }
        for run in runs
    ]
