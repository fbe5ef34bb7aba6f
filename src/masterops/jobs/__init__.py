"""Durable, scheduled jobs on DBOS: ``runtime`` launches it, ``workflows`` are the jobs,
``schedules`` and ``queues`` say when and where they run; ``ops worker`` runs them.

Nothing here imports ``dbos`` at import time except ``workflows``: commands that run no
jobs do not pay for it.
"""
