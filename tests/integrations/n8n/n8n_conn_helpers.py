"""Shared constants and workflow builders of the n8n connector tests."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from masterops.integrations.base import BreakerSettings, RetryPolicy
from masterops.integrations.n8n import N8nConnector
from masterops_sandbox.accounts import n8n_api_key
from masterops_sandbox.harness import ServiceHarness
from masterops_sandbox.n8n import N8nSandbox

BASE_URL = "http://n8n.sandbox"
# Seed 1's key: the session's no-secrets sweep searches telemetry for seeds 0..2.
API_KEY = n8n_api_key(1)
FAST_RETRY = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005, deadline=30.0)
# Fault-injection tests fail many attempts in a row: keep the breaker out of their way.
PATIENT_BREAKER = BreakerSettings(failure_threshold=1000)


@dataclass
class N8nEnv:
    sandbox: N8nSandbox
    harness: ServiceHarness
    connect: Callable[..., N8nConnector]


def webhook_node(path: str, *, mode: str = "lastNode", name: str = "Webhook") -> dict[str, Any]:
    return {
        "name": name,
        "type": "n8n-nodes-base.webhook",
        "typeVersion": 2,
        "position": [0, 0],
        "webhookId": str(uuid.uuid4()),
        "parameters": {"path": path, "httpMethod": "POST", "responseMode": mode},
    }


def stop_node(text: str, name: str = "Boom") -> dict[str, Any]:
    return {
        "name": name,
        "type": "n8n-nodes-base.stopAndError",
        "typeVersion": 1,
        "position": [220, 0],
        "parameters": {"errorMessage": text},
    }


def noop_node(name: str = "Nothing") -> dict[str, Any]:
    return {
        "name": name,
        "type": "n8n-nodes-base.noOp",
        "typeVersion": 1,
        "position": [0, 0],
        "parameters": {},
    }


def chain(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]}
        for a, b in itertools.pairwise(nodes)
    }
