"""The queues scheduled jobs run on, each one job at a time across every worker.

Two syncs of one business at once would race on its watermarks and its HubSpot writes,
so each business's syncs share a queue whose global concurrency is 1: across every
worker, not only within one. The n8n execution import reads one instance for all the
businesses that share it, so it has a queue of its own. Health rounds have one too: a
slow round is never overlapped by the next, and the rounds stay off DBOS's internal
queue, which every process dequeues, even ``ops worker --once``. The webhook inbox has
its own, so processing never waits behind a health round.

A queue whose global concurrency is 1 starts at most one job per poll of each worker:
DBOS claims the next job only when a worker polls, not when the previous one ends. At
DBOS's default of one poll a second that capped each business at about one job a second
however short its jobs. The businesses' sync queues, where on-demand and scheduled syncs
queue up, poll every ``SYNC_POLLING_S``; the others (a health round, the n8n import and
the webhook inbox each run at most every few seconds) keep DBOS's second. Each poll
costs every worker about three small transactions on the system database per queue,
even with nothing to do: ``bench/worker_throughput.py`` measures both sides (jobs/s, and
idle transactions/s and CPU).
"""

from __future__ import annotations

from collections.abc import Iterable

HEALTH_QUEUE = "health"
N8N_QUEUE = "sync-n8n"
WEBHOOK_QUEUE = "webhooks"
#: How often each worker looks for work on each business's sync queue, in seconds.
SYNC_POLLING_S = 0.1
#: ... and on the other queues (DBOS's default).
POLLING_S = 1.0


def sync_queue(business_id: str) -> str:
    """The queue of one business's syncs."""
    return f"sync-{business_id}"


def queue_names(business_ids: Iterable[str]) -> list[str]:
    return [HEALTH_QUEUE, *(sync_queue(b) for b in business_ids), N8N_QUEUE, WEBHOOK_QUEUE]


def polling_interval(name: str) -> float:
    """How often workers poll the queue ``name``, in seconds."""
    others = (HEALTH_QUEUE, N8N_QUEUE, WEBHOOK_QUEUE)
    return SYNC_POLLING_S if name.startswith("sync-") and name not in others else POLLING_S


def register_queues(business_ids: Iterable[str]) -> list[str]:
    """Register (or update) every queue; call after ``DBOS.launch()``. Returns the
    names registered. The settings live in the system database, shared by every worker
    (each rereads them at every poll): the last worker to start sets them."""
    from dbos import DBOS

    names = queue_names(business_ids)
    for name in names:
        DBOS.register_queue(name, global_concurrency=1, polling_interval_sec=polling_interval(name))
    return names
