"""Dashboard sessions: a random id in an HTTP-only cookie, the rest in this process.

A session holds the SHA-256 of the token it was opened with (never the token), so a
revoked or expired token ends its sessions at their next request; and a CSRF token
every form of the session must send back. Restarting the service signs everyone out.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass

SESSION_COOKIE = "mo_session"


@dataclass(frozen=True)
class Session:
    token_sha256: str
    csrf: str
    expires: float


class SessionStore:
    def __init__(self, lifetime_s: int, clock: Callable[[], float]) -> None:
        self.lifetime_s = lifetime_s
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token_sha256: str) -> str:
        session_id = secrets.token_urlsafe(32)
        session = Session(token_sha256, secrets.token_urlsafe(32), self.clock() + self.lifetime_s)
        with self._lock:
            now = self.clock()
            self._sessions = {k: v for k, v in self._sessions.items() if v.expires > now}
            self._sessions[session_id] = session
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is not None and session.expires <= self.clock():
                del self._sessions[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)
