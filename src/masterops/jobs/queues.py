"""The queues the jobs run on, and how each keeps its jobs from running side by side.

Two syncs of one business at once would race on its watermarks and its HubSpot writes.
Every Unleashed sync (on demand or scheduled) therefore runs on ``SYNC_QUEUE``,
partitioned by business with a partition concurrency of 1: across every worker, one sync
of a business at a time, and the businesses side by side. A schedule cannot name a
partition (DBOS 3.4's scheduler enqueues without a key), so a business's scheduled syncs
start on its own ``sync_queue(business)``, global concurrency 1, where a small workflow
enqueues the sync itself on ``SYNC_QUEUE`` under the business's key (``durable.py``).
The n8n execution import reads one instance for all the businesses that share it, so it
has a queue of its own. Health rounds have one too: a slow round is never overlapped by
the next, and the rounds stay off DBOS's internal queue, which every process dequeues,
even ``ops worker --once``. The webhook inbox has its own, so processing never waits
behind a health round.

DBOS starts queued work only when a worker polls the queue, not when the previous job
ends, and a queue limited to one job at a time starts at most one per poll: at DBOS's
default of one poll a second, each business ran about one job a second however short.
``SYNC_QUEUE`` is polled every ``SYNC_POLLING_S``, and one poll of it claims the next job
of every idle business in one query; the businesses' schedule queues every
``SCHEDULE_POLLING_S``; the other queues keep DBOS's second. Every poll
costs each worker a few small transactions on the system database even with nothing to
do, which is why the syncs share one partitioned queue rather than polling one queue per
business that often (``bench/worker_throughput.py`` measures both shapes: jobs/s, and
idle transactions/s and CPU).

What a second worker adds: a business's jobs form a chain (the next one starts after the
previous ended and a worker polled), so N businesses with work run at most N jobs at
once, at N / (step + dispatch gap) jobs/s, however many workers poll. A second worker
does not shorten the chain; it adds its own polling (two transactions per poll of each
queue) and, on the same cores as PostgreSQL, competes for them. Workers add throughput
when one worker's CPU is the limit (many businesses busy at once) and cores are free.
"""

from __future__ import annotations

from collections.abc import Iterable

HEALTH_QUEUE = "health"
N8N_QUEUE = "sync-n8n"
WEBHOOK_QUEUE = "webhooks"
#: Every Unleashed sync, partitioned by business (the partition key is the business id).
SYNC_QUEUE = "syncs"
#: How often each worker looks for work on ``SYNC_QUEUE``, in seconds.
SYNC_POLLING_S = 0.05
#: ... on the queues where only the scheduler starts a business's syncs (``sync_queue``):
#: a scheduled sync may start a few seconds late, and one queue per business polled each
#: second cost every worker about three transactions a second each, with nothing to do.
SCHEDULE_POLLING_S = 5.0
#: ... and on the other queues (DBOS's default).
POLLING_S = 1.0


def sync_queue(business_id: str) -> str:
    """The queue one business's scheduled syncs start on (see the module docstring)."""
    return f"sync-{business_id}"


def queue_names(business_ids: Iterable[str]) -> list[str]:
    return [
        HEALTH_QUEUE,
        *(sync_queue(b) for b in business_ids),
        SYNC_QUEUE,
        N8N_QUEUE,
        WEBHOOK_QUEUE,
    ]


def register_queues(business_ids: Iterable[str]) -> list[str]:
    """Register (or update) every queue; call after ``DBOS.launch()``. Returns the
    names registered. The settings live in the system database, shared by every worker
    (each rereads them at every poll): the last worker to start sets them."""
    from dbos import DBOS

    slugs = list(business_ids)
    names = queue_names(slugs)
    schedule_queues = {sync_queue(b) for b in slugs}
    for name in names:
        if name == SYNC_QUEUE:
            # Partition concurrency alone (no global limit): DBOS then claims the next job
            # of every idle partition in one query per poll.
            DBOS.register_queue(name, partition_concurrency=1, polling_interval_sec=SYNC_POLLING_S)
        else:
            polling = SCHEDULE_POLLING_S if name in schedule_queues else POLLING_S
            DBOS.register_queue(name, global_concurrency=1, polling_interval_sec=polling)
    return names
