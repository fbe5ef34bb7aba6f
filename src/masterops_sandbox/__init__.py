"""Stateful imitations of HubSpot, Unleashed and n8n, served as ASGI apps.

The sandbox stands alone: it never imports the rest of ``masterops``. It is
started by ``ops demo``, ``ops sandbox``, the test fixtures and the benchmarks.
"""
