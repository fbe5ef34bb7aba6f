"""Redactor: configured secrets anywhere, secret-looking keys, bearer tokens."""

from __future__ import annotations

import base64
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from masterops.observability.redaction import MASK, Redactor, is_secret_key

SECRET = "pat-na1-11112222-3333-4444-5555-666677778888"


def test_masks_configured_secrets_in_every_form() -> None:
    r = Redactor([SECRET, "p@ss word/+"])
    assert r.text(f"token {SECRET} used") == "token *** used"
    assert "p@ss" not in r.text(f"url?x={quote('p@ss word/+', safe='')}")
    encoded = base64.b64encode(SECRET.encode()).decode()
    assert SECRET not in r.text(encoded) and encoded.rstrip("=") not in r.text(encoded)


def test_masks_secret_looking_keys_recursively() -> None:
    r = Redactor()
    data = {
        "Authorization": "Bearer abc",
        "X-N8N-API-KEY": "n8n-key",
        "api-auth-signature": "sig",
        "client_secret": 12345,
        "Set-Cookie": "session=1",
        "password": None,
        "nested": [{"access_token": "t"}, {"apiKey": "k", "name": "ok"}],
        "count": 3,
        "api-auth-id": "not a secret",
    }
    out = r.mapping(data)
    assert out["Authorization"] == MASK and out["X-N8N-API-KEY"] == MASK
    assert out["api-auth-signature"] == MASK and out["client_secret"] == MASK
    assert out["Set-Cookie"] == MASK and out["password"] is None
    assert out["nested"] == [{"access_token": MASK}, {"apiKey": MASK, "name": "ok"}]
    assert out["count"] == 3 and out["api-auth-id"] == "not a secret"
    assert data["Authorization"] == "Bearer abc"  # the input is untouched


def test_masks_pairs_and_bearer_tokens_in_text() -> None:
    r = Redactor()
    assert r.text("Authorization: Bearer eyJhbGciOi.abc.def") == "Authorization: ***"
    assert r.text("sent Bearer eyJhbGciOi.abc") == "sent Bearer ***"
    assert r.text("GET /x?api_key=K123&limit=5") == "GET /x?api_key=***&limit=5"
    assert r.text('{"password": "hunter2", "user": "bob"}') == '{"password": "***", "user": "bob"}'
    assert r.text("signature=abc; other=1") == "signature=***; other=1"
    assert r.text("nothing to see: 42 items") == "nothing to see: 42 items"


def test_secret_key_detection() -> None:
    for key in (
        "authorization",
        "X-HubSpot-Signature-v3",
        "apikey",
        "API_KEY",
        "token",
        "privateKey",
    ):
        assert is_secret_key(key)
    for key in ("email", "rate_limit_remaining", "status", "api-auth-id"):
        assert not is_secret_key(key)


def test_with_secrets_combines() -> None:
    r = Redactor(["one-secret"]).with_secrets(["two-secret"])
    assert r.text("one-secret two-secret") == "*** ***"
    assert r.secrets == {"one-secret", "two-secret"}


def strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


# Real secrets are tokens; "*" is left out so that masking cannot spell one by accident.
secrets = st.text(
    st.characters(exclude_characters="*", exclude_categories=["Cs"]), min_size=1, max_size=40
)


@given(secret=secrets, before=st.text(max_size=30), after=st.text(max_size=30))
def test_a_configured_secret_never_survives(secret: str, before: str, after: str) -> None:
    r = Redactor([secret])
    assert secret not in r.text(before + secret + after)
    nested = r.mapping({"message": before + secret, "list": [secret, {"k": after + secret}]})
    assert all(secret not in s for s in strings(nested) if s not in ("message", "list", "k"))
