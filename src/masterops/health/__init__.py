"""Health rounds: check every service of every business, store the results.

``run_health_round`` checks concurrently and returns a ``HealthReport`` (overall status,
exit code); ``record_round`` stores it and returns each service's previous status, which
``masterops.alerts`` compares against.
"""

from masterops.health.report import EXIT_CODE_MODES, ExitCodeMode, HealthReport, OverallStatus
from masterops.health.round import (
    KNOWN_SERVICES,
    PLATFORM,
    ConnectorSource,
    run_health_round,
)
from masterops.health.store import Key, latest_statuses, recent_checks, record_round, save_results

__all__ = [
    "EXIT_CODE_MODES",
    "KNOWN_SERVICES",
    "PLATFORM",
    "ConnectorSource",
    "ExitCodeMode",
    "HealthReport",
    "Key",
    "OverallStatus",
    "latest_statuses",
    "recent_checks",
    "record_round",
    "run_health_round",
    "save_results",
]
