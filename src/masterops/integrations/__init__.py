"""Connectors to the external services, all built on ``integrations.base.BaseConnector``.

``base/`` is the shared core (breaker, limiter, retry, telemetry, errors); each service
has its own package beside it, as in the TypeScript original's ``integrations/``.
"""
