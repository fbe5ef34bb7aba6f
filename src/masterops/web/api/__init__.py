"""The JSON API under ``/api/v1``: a FastAPI application with its OpenAPI 3.1 document."""

from masterops.web.api.app import build_api

__all__ = ["build_api"]
