"""What every channel of ours does the same way: the identity stamp, the message cap, token checks.

The identity stamp is `UserMessage.metadata["orderdesk"] = {"channel": ..., "customer_id": ...}`. Only a
connector writes it, after authenticating its caller, and it always replaces whatever the client sent under
that key. `actions.identity` reads it. `customer_id` is present only when the channel itself proves the
customer (the widget's signed customer token); otherwise the actions look the chat up in the customer's
`chat_ids` for that channel.
"""
from __future__ import annotations

import hmac
from typing import Any, Optional

IDENTITY_KEY = "orderdesk"

# Longer messages are refused at the channel with a clear answer; nothing past the cap reaches Rasa.
MAX_MESSAGE_CHARS = 12_000  # about 2,000 words: a long complaint fits, a pasted file does not


def stamp_identity(metadata: Any, channel: str, customer_id: Optional[str] = None) -> dict[str, Any]:
    """The metadata to hand to Rasa: the client's own keys (when a dict) with our stamp put over them."""
    out = dict(metadata) if isinstance(metadata, dict) else {}
    stamp: dict[str, Any] = {"channel": channel}
    if customer_id:
        stamp["customer_id"] = customer_id
    out[IDENTITY_KEY] = stamp
    return out


def too_long(text: Any, limit: int = MAX_MESSAGE_CHARS) -> bool:
    return isinstance(text, str) and len(text) > limit


def too_long_reply(length: int, limit: int = MAX_MESSAGE_CHARS) -> str:
    """The reply to a message too long to read (domain.yml's utter_text_message_too_long)."""
    from ..wording import phrase

    return phrase("utter_text_message_too_long", length=f"{length:,}", limit=f"{limit:,}")


def reply_text(name: str) -> str:
    """A reply a channel sends by itself, outside a conversation turn: its text in domain.yml."""
    from ..wording import text

    return text(name)


def same_secret(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an unset expected secret matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))
