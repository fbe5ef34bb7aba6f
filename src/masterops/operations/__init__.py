"""Every operation of the platform, written once, and the composition root they run in.

``context.AppContext`` builds what an operation needs (configuration, the migrated
database, telemetry); ``services.Services`` builds the connectors (configured, or the
sandbox started in-process). Each other module is one operation as a plain function:
``health`` (a round and its alerts), ``sync`` (each sync and its plan over businesses
and n8n instances), ``main_job`` (what ``ops demo`` runs), ``webhooks`` (the inbox),
``n8n_workflows`` (workflow deploy and diff). ``cli/`` calls them and renders, ``jobs/``
wraps them as durable steps, ``web/`` serves what they stored.

Nothing here is imported by ``masterops.operations`` itself: each command imports only
the operation it runs, so ``ops --help`` stays light.
"""
