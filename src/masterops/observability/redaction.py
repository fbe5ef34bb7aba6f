"""Masking secrets before anything is logged, stored, raised or measured.

A ``Redactor`` knows the secret values configured for a component (tokens, API keys,
signing keys) and masks them wherever they appear in a string, in plain, URL-encoded and
Base64 ("user:password" Basic auth) forms. It also masks the value of any key that looks
secret (``authorization``, ``token``, ``api-key``, ``password``, ``secret``,
``signature``, ``cookie``, ...) in mappings and in ``key=value`` / ``key: value`` text, and
bearer tokens in text. The integration layer redacts every message, detail and metric it
emits; the database writers reuse the same class.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "***"
_SCALARS = frozenset({int, float, bool})

# Compared against a key with case, "-", "_", "." and spaces removed.
_SECRET_KEY_PARTS = (
    "authorization",
    "token",
    "apikey",
    "password",
    "passwd",
    "secret",
    "signature",
    "cookie",
    "privatekey",
    "credential",
)

_KEY_NORMALIZE = re.compile(r"[\s_.\-]")

# key=value, key: value, "key": "value" in free text (query strings, headers, JSON snippets).
_SECRET_PAIR = re.compile(
    r"""(?ix)
    (?P<key>[A-Za-z0-9_.\-]*
        (?:authorization|token|api[-_ ]?key|password|passwd|secret|signature|cookie|
           private[-_ ]?key|credential)
        [A-Za-z0-9_.\-]*)
    (?P<sep>["']?\s*[:=]\s*["']?)
    (?P<value>(?:bearer\s+|basic\s+)?[^\s"'&,;<>]+)
    """
)
# Every text the two patterns below can change contains one of these words.
_MAYBE_SECRET = re.compile(
    r"(?i)bearer|basic|authorization|token|api[-_ ]?key|passw|secret|signature|cookie|"
    r"private[-_ ]?key|credential"
)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]{4,}")


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """True when a mapping key names something secret (``X-N8N-API-KEY``, ``client_secret``)."""
    normalized = _KEY_NORMALIZE.sub("", key.lower())
    return any(part in normalized for part in _SECRET_KEY_PARTS)


class Redactor:
    """Masks configured secret values and secret-looking fields.

    ``secrets`` are exact values to mask anywhere (empty strings are ignored). The redactor
    is immutable and cheap to share; ``with_secrets`` returns one that masks more.
    """

    __slots__ = ("_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            variants.update(_variants(secret))
        self._secrets = frozenset(s for s in secrets if s)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None

    @property
    def secrets(self) -> frozenset[str]:
        return self._secrets

    def with_secrets(self, secrets: Iterable[str]) -> Redactor:
        """A redactor that masks this one's secrets and ``secrets``."""
        return Redactor([*self._secrets, *secrets])

    def text(self, s: str) -> str:
        """``s`` with every configured secret, bearer token and secret ``key=value`` masked."""
        if self._pattern is not None:
            s = self._pattern.sub(MASK, s)
        if not _MAYBE_SECRET.search(s):
            return s  # one cheap scan instead of two substitutions for ordinary text
        s = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", s)
        return _SECRET_PAIR.sub(_mask_pair, s)

    def mapping(self, d: Mapping[Any, Any]) -> dict[Any, Any]:
        """A recursive copy of ``d`` with secret keys' values masked and strings redacted."""
        out: dict[Any, Any] = {}
        for key, value in d.items():
            if isinstance(key, str) and is_secret_key(key) and value is not None:
                out[key] = MASK
            else:
                out[key] = self.value(value)
        return out

    def value(self, v: Any) -> Any:
        """Redact any JSON-like value: strings, mappings, lists and tuples, recursively."""
        if v is None or type(v) in _SCALARS:
            return v  # fast path: numbers need no redaction and ABC checks are slow
        if isinstance(v, str):
            return self.text(v)
        if isinstance(v, Mapping):
            return self.mapping(v)
        if isinstance(v, list | tuple):
            return [self.value(item) for item in v]
        if isinstance(v, bytes | bytearray):
            return self.text(bytes(v).decode("utf-8", errors="replace"))
        return v


def _mask_pair(match: re.Match[str]) -> str:
    if match.group("value") == MASK:
        return match.group(0)
    return f"{match.group('key')}{match.group('sep')}{MASK}"


def _variants(secret: str) -> set[str]:
    """The forms a secret takes on the wire: as is, URL-encoded, in Basic auth."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    # A token sent Base64-encoded (some Basic-auth style APIs); a full "Basic ..." header
    # value is masked by _BEARER whatever it encodes.
    encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
    if len(encoded) >= 8:
        forms.add(encoded)
    return {f for f in forms if f}
