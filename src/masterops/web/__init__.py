"""The HTTP service: webhook receivers, the JSON API, ``/metrics`` and the dashboard."""

from masterops.web.app import create_app
from masterops.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
