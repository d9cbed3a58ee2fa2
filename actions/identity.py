"""Who is talking: the acting customer of a conversation, as the channel proved it.

Only our channel connectors write the identity stamp (`orderdesk.channels.common`), after authenticating
their caller, and they overwrite anything a client sent under its key. So the stamp on the latest user
message is the one thing about identity the actions trust: the customer named by the channel itself (the
widget's signed customer token), else the customer whose `chat_ids` link this chat on that channel. A message
without a stamp comes from a stranger. Slots never decide who the customer is.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker

from orderdesk.channels.common import IDENTITY_KEY

STRANGER_CHANNEL = "unknown"


def _stamp(tracker: Tracker) -> dict[str, Any]:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    stamp = metadata.get(IDENTITY_KEY) if isinstance(metadata, dict) else None
    return stamp if isinstance(stamp, dict) else {}


def channel_of(tracker: Tracker) -> str:
    """The channel that authenticated the latest message ("unknown" when none did)."""
    channel = _stamp(tracker).get("channel")
    return channel if isinstance(channel, str) and channel else STRANGER_CHANNEL


def linked_customer(tracker: Tracker, services: Any) -> Optional[str]:
    """The customer the channel proved, or the one linked to this chat on it; None for a stranger."""
    stamp = _stamp(tracker)
    customer = stamp.get("customer_id")
    if isinstance(customer, str) and customer:
        return customer
    channel = stamp.get("channel")
    if not isinstance(channel, str) or not channel:
        return None
    return services.customer_for_chat(channel, tracker.sender_id)
