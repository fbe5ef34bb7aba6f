"""The platform database: tables, engine, migrations, queries (SQLAlchemy Core)."""
