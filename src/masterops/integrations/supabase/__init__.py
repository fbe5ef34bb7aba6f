"""The platform's own database (Supabase is PostgreSQL) and Supabase's REST endpoint."""

from masterops.integrations.supabase.database import database_health
from masterops.integrations.supabase.rest import SupabaseRestConnector

__all__ = ["SupabaseRestConnector", "database_health"]
