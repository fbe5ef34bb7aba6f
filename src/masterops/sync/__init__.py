"""Moving data between the services and the platform database, incrementally."""
