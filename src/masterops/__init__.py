"""Master-Ops: keeps Unleashed, HubSpot and n8n in step with one database."""

__version__ = "0.1.0"
