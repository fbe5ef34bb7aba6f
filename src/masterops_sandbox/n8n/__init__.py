"""The n8n sandbox: a stateful imitation of n8n's public API v1 and production webhooks.

Faithful to a real n8n 1.123 (``tests/contract`` runs one suite against both)."""

from masterops_sandbox.n8n.app import N8nSandbox, build_n8n, create_n8n
from masterops_sandbox.n8n.seed import DEFAULT_EXECUTIONS

__all__ = ["DEFAULT_EXECUTIONS", "N8nSandbox", "build_n8n", "create_n8n"]
