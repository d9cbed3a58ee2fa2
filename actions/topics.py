"""The Rasa edge of the topic registry (`orderdesk.topics`): the one place intent names meet topics.

Which intent asks each topic, what to say when no order is in play yet, and the buyer-readable
titles of the buttons that name a topic (as domain.yml responses). Everything else about a topic (the policy's answers, the
orders it is about, what it offers to file) is the core's.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from orderdesk import wording
from orderdesk.topics import topic


@dataclass(frozen=True)
class Asked:
    intent: str  # the intent that asks it (and the payload of a button that asks it)
    general: str  # the response when no order is in play yet


ASKED: dict[str, Asked] = {
    "cancel": Asked("cancel_order", "utter_general_cancel"),
    "no_cancel_button": Asked("ask_no_cancel_button", "utter_general_cancel"),
    "cancel_after_shipment": Asked("ask_cancel_after_shipment", "utter_general_cancel"),
    "cancellation_rejected": Asked("report_seller_rejected_cancellation", "utter_general_dispute"),
    "cancellation_status": Asked("ask_cancellation_status", "utter_general_cancel"),
    "seller_cancelled": Asked("report_seller_cancelled", "utter_general_refund"),
    "unpaid_order": Asked("ask_unpaid_order", "utter_general_unpaid"),
    "refund": Asked("ask_refund", "utter_general_refund"),
    "refund_status": Asked("ask_refund_status", "utter_general_refund"),
    "refund_destination": Asked("ask_refund_destination", "utter_general_refund_destination"),
    "not_received": Asked("report_not_received", "utter_general_dispute"),
    "not_as_described": Asked("report_not_as_described", "utter_general_dispute"),
    "dispute": Asked("open_dispute", "utter_general_dispute"),
    "escalation": Asked("escalate_dispute", "utter_general_dispute"),
    "return": Asked("ask_return", "utter_general_return"),
    "confirmed_by_mistake": Asked("report_confirmed_by_mistake", "utter_general_return"),
    "status": Asked("check_order_status", "utter_general_status"),
}

# The topic each question intent asks.
TOPIC_OF: dict[str, str] = {asked.intent: key for key, asked in ASKED.items()}

# Short follow-ups: they keep the topic and the order already in the conversation (issue 8, point 1).
FOLLOWUPS = ("ask_when", "ask_why", "ask_if_seller_refuses", "ask_options", "ask_contact_seller",
             "ask_return_shipping", "ask_escalation")

# The topics (and clarification choices) that have a button title: domain.yml's utter_text_title_<key>,
# and utter_text_title_<key>_item naming the order in play's item.
TITLES: frozenset[str] = frozenset({*ASKED, "when", "options", "person"})

# What a clarification may offer for an intent the classifier ranked: the title to show.
CLARIFY: dict[str, str] = {**TOPIC_OF, "ask_when": "when", "ask_options": "options"}


def topic_of(intent: Optional[str]) -> Optional[str]:
    """The topic an intent asks, or None for an intent that asks none (a follow-up, an order number)."""
    return TOPIC_OF.get(intent or "")


def in_slot(value: Optional[str]) -> Optional[str]:
    """The topic the `topic` slot holds (a conversation saved before the registry holds the intent)."""
    return TOPIC_OF.get(value or "", value)


def general_response(key: Optional[str]) -> str:
    """What to say about a topic when no order is in play yet."""
    return ASKED[topic(key).key].general


def title(key: str, item: Optional[str] = None) -> str:
    """A topic's (or a clarification button's) title, with the order in play when there is one."""
    if key not in TITLES:
        raise KeyError(f"no title for {key!r}")
    if item:
        return wording.phrase(f"utter_text_title_{key}_item", item=item)
    return wording.text(f"utter_text_title_{key}")

