"""Masking secrets before anything is logged, stored, raised or measured.

A ``Redactor`` knows the secret values configured for a component (tokens, API keys,
signing keys) and masks them wherever they appear in a string, in plain, URL-encoded and
Base64 ("user:password" Basic auth) forms, and masks any run of ``MIN_LEAK`` (12) or more
characters of one: a service that echoes a token cut short, or a text cut before it was
masked, must not leak most of it. It also masks the value of any key that looks
secret (``authorization``, ``token``, ``api-key``, ``password``, ``secret``,
``signature``, ``cookie``, ...) in mappings and in ``key=value`` / ``key: value`` text, and
bearer tokens in text. The integration layer redacts every message, detail and metric it
emits; the database writers reuse the same class. Whoever shortens a text masks it
first: a cut through a secret leaves a piece that no longer matches it whole.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

MASK = "***"
#: The shortest run of a secret's characters that is masked on its own (shorter runs of
#: a 40-character token say next to nothing about it, and would mask ordinary words).
MIN_LEAK = 12
# Runs are found from aligned anchors of this length: any run of MIN_LEAK characters
# contains a whole anchor that starts at a multiple of _ANCHOR.
_ANCHOR = MIN_LEAK // 2
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

    __slots__ = ("_fragments", "_pattern", "_secrets")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants: set[str] = set()
        runs: set[str] = set()
        self._secrets = frozenset(s for s in secrets if s)
        for secret in self._secrets:
            variants.update(_variants(secret))
            runs.update(_variants(_distinctive(secret)))
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered)) if ordered else None
        self._fragments = _Fragments(runs)

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
            s = self._fragments.mask(s)
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


class _Fragments:
    """Finds and masks runs of ``MIN_LEAK`` or more characters of any of some texts.

    Every ``_ANCHOR``-character piece of each text is indexed; a string is probed only at
    offsets that are multiples of ``_ANCHOR`` (a run of ``MIN_LEAK`` always covers one
    such piece whole), and each hit is stretched both ways as far as the text agrees.
    That is one dictionary look-up per ``_ANCHOR`` characters for ordinary strings.
    """

    __slots__ = ("_index", "_texts")

    def __init__(self, texts: Iterable[str]) -> None:
        self._texts = tuple(sorted(t for t in set(texts) if len(t) >= MIN_LEAK))
        self._index: dict[str, list[tuple[int, int]]] = {}
        for number, text in enumerate(self._texts):
            for offset in range(len(text) - _ANCHOR + 1):
                piece = text[offset : offset + _ANCHOR]
                self._index.setdefault(piece, []).append((number, offset))

    def mask(self, s: str) -> str:
        if not self._index or len(s) < MIN_LEAK:
            return s
        spans: list[tuple[int, int]] = []
        # A probe inside a run already found is skipped (it keeps a degenerate secret,
        # "000000000000", from costing a stretch per probe): a run it alone could reach
        # ends fewer than MIN_LEAK characters past that one.
        covered = 0
        for probe in range(0, len(s) - _ANCHOR + 1, _ANCHOR):
            hits = self._index.get(s[probe : probe + _ANCHOR])
            if hits is None or probe + _ANCHOR <= covered:
                continue
            for number, offset in hits:
                start, end = _stretch(s, probe, self._texts[number], offset)
                if end - start >= MIN_LEAK:
                    spans.append((start, end))
                    covered = max(covered, end)
        if not spans:
            return s
        return _replace(s, spans)


def _stretch(s: str, probe: int, text: str, offset: int) -> tuple[int, int]:
    """The widest span of ``s`` around ``s[probe:probe + _ANCHOR]`` (which equals
    ``text[offset:offset + _ANCHOR]``) that matches ``text`` at the same alignment."""
    start, back = probe, offset
    while start > 0 and back > 0 and s[start - 1] == text[back - 1]:
        start -= 1
        back -= 1
    end, ahead = probe + _ANCHOR, offset + _ANCHOR
    while end < len(s) and ahead < len(text) and s[end] == text[ahead]:
        end += 1
        ahead += 1
    return start, end


def _replace(s: str, spans: list[tuple[int, int]]) -> str:
    """``s`` with each of the (possibly overlapping) ``spans`` masked, overlaps once."""
    out: list[str] = []
    last = 0
    for start, end in sorted(spans):
        if end <= last:
            continue
        if start >= last:
            out.append(s[last:start])
            out.append(MASK)
        last = end
    out.append(s[last:])
    return "".join(out)


def _distinctive(secret: str) -> str:
    """The text no run of which may leak: the secret itself, or, for a URL (a Slack
    webhook), its path and query. Runs of a URL's scheme and host are ordinary text (a
    password in it is configured as a secret of its own)."""
    if "://" not in secret:
        return secret
    parts = urlsplit(secret)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _variants(secret: str) -> set[str]:
    """The forms a secret takes on the wire: as is, URL-encoded, in Basic auth."""
    forms = {secret, quote(secret, safe=""), quote_plus(secret)}
    # A token sent Base64-encoded (some Basic-auth style APIs); a full "Basic ..." header
    # value is masked by _BEARER whatever it encodes.
    encoded = base64.b64encode(secret.encode()).decode().rstrip("=")
    if len(encoded) >= 8:
        forms.add(encoded)
    return {f for f in forms if f}
