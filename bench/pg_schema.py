"""A fresh PostgreSQL schema for a bench: the benches share this (no main of its own)."""

from __future__ import annotations

from sqlalchemy import text

from masterops.db.engine import create_db_engine


def fresh_schema_url(url: str, schema: str) -> str | None:
    """Drop and create ``schema`` at ``url``; the URL whose connections use it, or None
    (said on stdout) when the server cannot be reached."""
    admin = create_db_engine(url)
    try:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        print(f"PostgreSQL: skipped, {url!r} is unreachable ({type(exc).__name__})")
        return None
    finally:
        admin.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"
