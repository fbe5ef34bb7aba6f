"""Durable, scheduled jobs on DBOS: ``runtime`` launches it, ``durable`` holds the jobs,
``schedules`` and ``queues`` say when and where they run; ``ops worker`` runs them.

Nothing here imports ``dbos`` at import time except ``durable``: commands that run no
jobs do not pay for it.
"""
