"""Who is talking: the acting customer of a conversation, as the channel proved it.

Only our channel connectors write the identity stamp (`orderdesk.channels.common`), after authenticating
their caller, and they overwrite anything a client sent under its key. So the stamp on the latest user
message is the one thing about identity the actions trust: the customer named by the channel itself (the
widget's signed customer token), else the customer whose `chat_ids` link this chat on that channel. A message
without a stamp comes from a stranger.

A stranger becomes a customer for one conversation by giving an order number and the email on it
(`orderdesk.verification`): the proof is kept in the order database for that conversation and session only,
not in a slot. `acting_customer` is the one answer to "who is this" the actions use. Slots never decide it.
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Tracker

from orderdesk.channels.common import IDENTITY_KEY
from orderdesk.verification import Verification, Verified, conversation_key

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


def session_of(tracker: Tracker) -> str:
    """The conversation's current session: when its latest `session_started` happened ("-" before any)."""
    for event in reversed(tracker.events or []):
        if isinstance(event, dict) and event.get("event") == "session_started":
            return str(event.get("timestamp") or "-")[:64]
    return "-"


def conversation_of(tracker: Tracker) -> str:
    return conversation_key(channel_of(tracker), str(tracker.sender_id))


def verification(services: Any) -> Verification:
    return Verification(services.uow, services.clock)


def verified_customer(tracker: Tracker, services: Any) -> Optional[str]:
    """The customer this conversation proved by order number and email, in this session and used within
    the last 30 minutes; None otherwise."""
    return verification(services).verified_customer(conversation_of(tracker), session_of(tracker))


def acting_customer(tracker: Tracker, services: Any) -> Optional[str]:
    """Who is acting: the customer this conversation proved by email in this session (possibly another
    account than the linked one: the buyer chose to prove it), else the one the channel proved or linked;
    None for a stranger."""
    return verified_customer(tracker, services) or linked_customer(tracker, services)


def verify(tracker: Tracker, services: Any, order_id: str, email: str) -> Verified:
    """Check the order number and email for this conversation (raises VerificationFailed / Locked)."""
    return verification(services).verify(order_id, email, conversation=conversation_of(tracker),
                                         session=session_of(tracker))
