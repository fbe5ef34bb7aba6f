"""API tokens of the HTTP service: made once, stored as their SHA-256, checked per request.

A token is 32 random bytes (``secrets.token_urlsafe``) behind a ``mo_`` prefix, so a
leaked one is recognisable in a scan. Only its SHA-256 is stored: the token carries
256 bits of entropy, so an unsalted fast hash cannot be brute-forced, and a lookup by
hash stays one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from masterops.db.tables import api_tokens

#: Each scope allows what the ones before it allow.
SCOPES = ("read", "operate", "admin")
PREFIX = "mo_"


@dataclass(frozen=True)
class TokenGrant:
    """Who a verified token is and what it may do. ``businesses`` None: every business."""

    id: int
    name: str
    scope: str
    businesses: tuple[str, ...] | None

    def allows(self, needed: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(needed)

    def sees(self, business: str | None) -> bool:
        return self.businesses is None or business in self.businesses


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection,
    *,
    name: str,
    scope: str,
    businesses: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[TokenGrant, str]:
    """A new token: its grant and the token itself (shown once, never stored)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    token = PREFIX + secrets.token_urlsafe(32)
    row_id = conn.execute(
        insert(api_tokens)
        .values(
            name=name,
            token_sha256=digest(token),
            scope=scope,
            businesses_json=sorted(set(businesses)) if businesses else None,
            created_at=datetime.now(UTC),
            expires_at=expires_at,
        )
        .returning(api_tokens.c.id)
    ).scalar_one()
    grant = TokenGrant(int(row_id), name, scope, tuple(sorted(set(businesses or ()))) or None)
    return grant, token


def verify_token(conn: Connection, token: str, *, now: datetime | None = None) -> TokenGrant | None:
    """The grant of a live token (known, not revoked, not expired), else None."""
    return grant_by_digest(conn, digest(token), now=now)


def grant_by_digest(
    conn: Connection, token_sha256: str, *, now: datetime | None = None
) -> TokenGrant | None:
    """``verify_token`` for a token known only by its SHA-256 (a signed-in session)."""
    t = api_tokens
    row = conn.execute(select(t).where(t.c.token_sha256 == token_sha256)).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.expires_at is not None and row.expires_at <= (now or datetime.now(UTC)):
        return None
    businesses = row.businesses_json
    return TokenGrant(
        int(row.id), str(row.name), str(row.scope), tuple(businesses) if businesses else None
    )


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token's metadata (never a hash), oldest first."""
    t = api_tokens
    stmt = select(
        t.c.id,
        t.c.name,
        t.c.scope,
        t.c.businesses_json.label("businesses"),
        t.c.created_at,
        t.c.expires_at,
        t.c.revoked_at,
    ).order_by(t.c.id)
    return [dict(r._mapping) for r in conn.execute(stmt)]


def revoke_token(conn: Connection, name_or_id: str) -> bool:
    """Revoke the token of that name (or id); False when there is no such live token."""
    t = api_tokens
    which = t.c.name == name_or_id
    if name_or_id.isdigit():
        which = which | (t.c.id == int(name_or_id))
    result = conn.execute(
        update(t).where(which, t.c.revoked_at.is_(None)).values(revoked_at=datetime.now(UTC))
    )
    return result.rowcount > 0


def live_token_exists(conn: Connection, *, now: datetime | None = None) -> bool:
    t = api_tokens
    moment = now or datetime.now(UTC)
    stmt = select(t.c.id).where(
        t.c.revoked_at.is_(None), (t.c.expires_at.is_(None)) | (t.c.expires_at > moment)
    )
    return conn.execute(stmt.limit(1)).first() is not None
