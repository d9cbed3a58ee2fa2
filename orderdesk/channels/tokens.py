"""Signed values for the web widget: the customer token and the conversation (session) id.

The customer token is how the shop's page tells the bot who is logged in. The shop's backend (here the demo
web server, `orderdesk.web`) issues it with the secret `ORDERDESK_WIDGET_SECRET`; the page puts it in the
widget's `customData`; the socket.io channel verifies it on every message and stamps the customer.

    token = base64url(json {"sub": customer_id, "exp": unix_seconds}) "." base64url(HMAC-SHA256(secret, part 1))

No JWT library: one algorithm, fixed, so there is no `alg` header to trust. A token past `exp`, with a bad
signature, or malformed verifies to None (the visitor is anonymous).

Session ids are issued by the channel the same way (random id "." signature), so a client can only resume a
conversation the server started, never pick another visitor's id (or a chat id that `chat_ids` links).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Optional

SECRET_ENV = "ORDERDESK_WIDGET_SECRET"
DEFAULT_TTL_SECONDS = 12 * 3600
MAX_TOKEN_CHARS = 1024


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, message: str, purpose: str) -> str:
    key = hashlib.sha256(f"{purpose}:{secret}".encode("utf-8")).digest()  # one key per purpose
    return _b64(hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest())


def issue_customer_token(customer_id: str, secret: str, now: float, ttl: float = DEFAULT_TTL_SECONDS) -> str:
    if not secret:
        raise ValueError(f"no widget secret: set {SECRET_ENV}")
    body = _b64(json.dumps({"sub": customer_id, "exp": int(now + ttl)}, separators=(",", ":")).encode("utf-8"))
    return f"{body}.{_sign(secret, body, 'customer')}"


def verify_customer_token(token: object, secret: Optional[str], now: float) -> Optional[str]:
    """The customer id the token names, or None (no secret, malformed, bad signature, expired)."""
    if not secret or not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature.encode("ascii", "replace"),
                               _sign(secret, body, "customer").encode("ascii")):
        return None
    try:
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    sub, exp = claims.get("sub"), claims.get("exp")
    if not isinstance(sub, str) or not sub or not isinstance(exp, int) or now >= exp:
        return None
    return sub


def new_session_id(secret: str) -> str:
    sid = secrets.token_hex(16)
    return f"{sid}.{_sign(secret, sid, 'session')[:22]}"


def valid_session_id(value: object, secret: str) -> bool:
    if not isinstance(value, str) or len(value) > 64 or value.count(".") != 1:
        return False
    sid, signature = value.split(".")
    expected = _sign(secret, sid, "session")[:22]
    return len(sid) == 32 and hmac.compare_digest(signature.encode("ascii", "replace"), expected.encode("ascii"))
