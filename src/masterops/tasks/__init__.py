"""Task tracking (the seed's ``tasks`` and ``task_logs``)."""
