"""A stateful imitation of HubSpot's CRM v3/v4 API, one portal per business.

``create_hubspot`` returns the harness (the ASGI app to serve or to hand to
``SandboxTransport``); ``build_hubspot`` also returns the ``HubSpotSandbox`` whose
methods set tiers, limits and scopes, queue failures, steer webhooks and load or
inspect records. ``sign_v3`` is the webhook signature a receiver recomputes.
"""

from masterops_sandbox.hubspot.app import build_hubspot, create_hubspot, hubspot_app
from masterops_sandbox.hubspot.sandbox import HubSpotSandbox
from masterops_sandbox.hubspot.webhooks import Delivery, SendFn, WebhookDispatcher, sign_v3

__all__ = [
    "Delivery",
    "HubSpotSandbox",
    "SendFn",
    "WebhookDispatcher",
    "build_hubspot",
    "create_hubspot",
    "hubspot_app",
    "sign_v3",
]
