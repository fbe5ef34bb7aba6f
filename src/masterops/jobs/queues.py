"""The queues scheduled jobs run on, each one job at a time across every worker.

Two syncs of one business at once would race on its watermarks and its HubSpot writes,
so each business's syncs share a queue whose global concurrency is 1: across every
worker, not only within one. The n8n execution import reads one instance for all the
businesses that share it, so it has a queue of its own. Health rounds have one too: a
slow round is never overlapped by the next, and the rounds stay off DBOS's internal
queue, which every process dequeues, even ``ops worker --once``. The webhook inbox has
its own, so processing never waits behind a health round.
"""

from __future__ import annotations

from collections.abc import Iterable

HEALTH_QUEUE = "health"
N8N_QUEUE = "sync-n8n"
WEBHOOK_QUEUE = "webhooks"


def sync_queue(business_id: str) -> str:
    """The queue of one business's syncs."""
    return f"sync-{business_id}"


def queue_names(business_ids: Iterable[str]) -> list[str]:
    return [HEALTH_QUEUE, *(sync_queue(b) for b in business_ids), N8N_QUEUE, WEBHOOK_QUEUE]


def register_queues(business_ids: Iterable[str]) -> list[str]:
    """Register (or update) every queue; call after ``DBOS.launch()``. Returns the
    names registered."""
    from dbos import DBOS

    names = queue_names(business_ids)
    for name in names:
        DBOS.register_queue(name, global_concurrency=1)
    return names
