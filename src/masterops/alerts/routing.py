"""Which channels hear about what: ``[[alerts.routes]]`` by business and severity.

An alert at status S about business B goes through the channels of every route whose
``business`` and ``severity`` lists match (an empty list matches all); when no route
matches, through ``[alerts] channels``. A recovery (or any change away from a status a
channel was told) goes to every channel that was told the problem, whatever the routes
say now: the operator who heard "down" must hear that it is over.

Email recipients follow the same routes: the union of the matching routes' ``email_to``
(a route without its own list uses ``[alerts] email_to``).
"""

from __future__ import annotations

from masterops.config import AlertRoute, AlertRules
from masterops.integrations.base import SEVERITY


def _matching(rules: AlertRules, business: str, status: str) -> list[AlertRoute]:
    return [
        route
        for route in rules.routes
        if (not route.business or business in route.business)
        and (not route.severity or status in route.severity)
    ]


def routed_channels(rules: AlertRules, business: str, status: str) -> tuple[str, ...]:
    """The channels an alert at ``status`` about ``business`` goes to (see module); none
    for a status below ``min_level`` (only the channels told otherwise need to hear)."""
    if SEVERITY.get(status, 0) < SEVERITY[rules.min_level]:
        return ()
    routes = _matching(rules, business, status)
    if not routes:
        return tuple(rules.channels)
    return tuple(dict.fromkeys(name for route in routes for name in route.channels))


def email_recipients(rules: AlertRules, business: str, status: str) -> tuple[str, ...]:
    """Who gets the email of an alert at ``status`` (for a recovery: at the status it
    recovered from) about ``business``."""
    routes = [r for r in _matching(rules, business, status) if "email" in r.channels]
    if not routes:
        return tuple(rules.email_to)
    return tuple(dict.fromkeys(to for r in routes for to in (r.email_to or rules.email_to)))


def all_channels(rules: AlertRules) -> tuple[str, ...]:
    """Every channel the default and the routes name, each once, in order."""
    names = [*rules.channels, *(name for route in rules.routes for name in route.channels)]
    return tuple(dict.fromkeys(names))
