"""The environment that points ``ops`` at a sandbox served on loopback (``ops sandbox --env``).

The variable names are those ``config.py`` reads; the values come from the sandbox's
``describe()``. Every business gets its HubSpot, Unleashed and n8n credentials and URLs,
and its HubSpot tier, so the client's limiter matches the sandbox portal's.
"""

from __future__ import annotations

import shlex
from typing import Any


def sandbox_environment(info: dict[str, Any]) -> dict[str, str]:
    """The variables, in a stable order, from ``Sandbox.describe()``."""
    urls = info["urls"]
    variables: dict[str, str] = {}
    for slug, business in info["businesses"].items():
        prefix = f"MASTEROPS_{slug.upper().replace('-', '_')}_"
        hubspot, unleashed = business["hubspot"], business["unleashed"]
        variables.update(
            {
                prefix + "HUBSPOT_TOKEN": hubspot["token"],
                prefix + "HUBSPOT_URL": urls["hubspot"],
                prefix + "HUBSPOT_TIER": hubspot["tier"],
                prefix + "HUBSPOT_CLIENT_SECRET": hubspot["client_secret"],
                prefix + "HUBSPOT_PORTAL_ID": str(hubspot["portal_id"]),
                prefix + "UNLEASHED_API_ID": unleashed["api_id"],
                prefix + "UNLEASHED_API_KEY": unleashed["api_key"],
                prefix + "UNLEASHED_URL": urls["unleashed"],
            }
        )
    variables["MASTEROPS_N8N_URL"] = urls["n8n"]
    variables["MASTEROPS_N8N_API_KEY"] = info["n8n_api_key"]
    return variables


def environment_lines(info: dict[str, Any], *, export: bool) -> list[str]:
    """``NAME=value`` lines (``export NAME=value`` with ``export``), quoted for a shell."""
    head = "export " if export else ""
    return [f"{head}{k}={shlex.quote(v)}" for k, v in sandbox_environment(info).items()]
