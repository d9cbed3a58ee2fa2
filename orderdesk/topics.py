"""The questions a buyer asks about an order: one registry, keyed by topic (issue 8).

Each topic says which of the policy's answers it needs, which answer a follow-up about it turns
on ("when?" after a refund question is about the refund), which orders it is about (the order
picker's tiers, `orderdesk.candidates`), and what it can lead to filing. Pure data over pure
checks, like `orderdesk.policy`: no Rasa, no database, no clock.

Topics are named for what the buyer wants, never for how a message was classified: the Rasa edge
(`actions.topics`) maps each intent to its topic and holds the buyer-facing titles and the
responses for a buyer with no order in play.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from .candidates import (
    Check,
    awaiting_payment,
    cancellable_now,
    cancellation_blocks_button,
    cancellation_pending,
    cancellation_rejected,
    cancellation_requested,
    closed_unpaid,
    confirmed_in_return_window,
    dispute_open,
    dispute_resolved,
    in_transit,
    not_shipped,
    nothing_arrived,
    payment_being_checked,
    received_in_protection,
    received_in_return_window,
    refund_owed,
    seller_cancelled,
    shipped_in_protection,
)

# The answers a topic may need: the policy's four (`orderdesk.policy.QUESTIONS`), where a refund
# goes (from the payment method), and the order's status.
ANSWERS = ("cancel", "refund", "dispute", "return", "destination", "status")
# What an answer can offer to file (the `offer` slot's values).
OFFERS = ("cancel", "dispute", "escalate")


@dataclass(frozen=True)
class Topic:
    key: str
    answers: tuple[str, ...]  # which answers it needs, in the order they are given
    about: str  # the answer a follow-up ("when?", "what can I do?", "and if the seller refuses?") turns on
    tiers: tuple[Check, ...] = ()  # the orders it is about, best first; none: every order
    strong: bool = False  # the order's state is the evidence: the one relevant order is the one meant
    offer: Optional[str] = None  # what to offer to file after the answer, when the policy allows it
    cancel_first: bool = False  # offer the cancellation when the way to the refund is to cancel first
    dispute_reason: Optional[str] = None  # the dispute reason the question names (the form need not ask)
    confirmed_by_mistake: bool = False  # asked about an order confirmed as received: a confirmation by mistake


REGISTRY: tuple[Topic, ...] = (
    Topic("cancel", ("cancel",), "cancel", (cancellable_now, not_shipped), offer="cancel"),
    Topic("no_cancel_button", ("cancel",), "cancel", (payment_being_checked, cancellation_blocks_button),
          offer="cancel"),
    Topic("cancel_after_shipment", ("cancel",), "cancel", (in_transit,), offer="cancel"),
    Topic("cancellation_rejected", ("cancel", "dispute"), "dispute", (cancellation_rejected,), strong=True,
          offer="dispute"),
    Topic("cancellation_status", ("cancel",), "cancel", (cancellation_pending, cancellation_requested), strong=True,
          offer="cancel"),
    Topic("seller_cancelled", ("refund",), "refund", (seller_cancelled,), strong=True),
    Topic("unpaid_order", ("cancel",), "cancel", (awaiting_payment, closed_unpaid), offer="cancel"),
    Topic("refund", ("refund",), "refund", (), offer="dispute", cancel_first=True),
    Topic("refund_status", ("refund",), "refund", (refund_owed, dispute_resolved), cancel_first=True),
    Topic("refund_destination", ("destination",), "refund", (refund_owed, dispute_resolved)),
    Topic("not_received", ("dispute",), "dispute", (nothing_arrived, in_transit), offer="dispute",
          dispute_reason="not_received", confirmed_by_mistake=True),
    Topic("not_as_described", ("dispute",), "dispute", (received_in_protection, shipped_in_protection),
          offer="dispute", dispute_reason="not_as_described"),
    Topic("dispute", ("dispute",), "dispute", (received_in_protection, shipped_in_protection), offer="dispute"),
    Topic("escalation", ("dispute",), "dispute", (dispute_open,), strong=True, offer="escalate"),
    Topic("return", ("return",), "return", (received_in_return_window, in_transit), offer="dispute"),
    Topic("confirmed_by_mistake", ("return",), "return", (confirmed_in_return_window,), strong=True,
          confirmed_by_mistake=True),
    Topic("status", ("status",), "status"),
)

TOPICS: dict[str, Topic] = {t.key: t for t in REGISTRY}
# What a question nobody named is about: the order's status, every order relevant, nothing offered.
DEFAULT = TOPICS["status"]


def topic(key: Optional[str]) -> Topic:
    """The topic named `key`; the status topic for none or an unknown name."""
    return TOPICS.get(key or "", DEFAULT)
