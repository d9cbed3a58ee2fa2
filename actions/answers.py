"""Turning a policy decision into response names and template variables.

No Rasa imports and no I/O: the wording lives in domain.yml; this module only
picks which responses to send and fills the dates they mention.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from orderdesk.policy import (
    Answer,
    Decision,
    completion_at,
    delivery_window_ends,
    fmt,
    received_at,
    refund_destination,
    return_until,
)
from orderdesk.policy_config import DEFAULT, PolicyConfig

# The question each intent asks, and which of the policy's four answers it needs.
TOPICS: dict[str, tuple[str, ...]] = {
    "cancel_order": ("cancel",),
    "ask_no_cancel_button": ("cancel",),
    "ask_cancel_after_shipment": ("cancel",),
    "report_seller_rejected_cancellation": ("cancel", "dispute"),
    "ask_cancellation_status": ("cancel",),
    "report_seller_cancelled": ("refund",),
    "ask_unpaid_order": ("cancel",),
    "ask_refund": ("refund",),
    "ask_refund_status": ("refund",),
    "ask_refund_destination": ("destination",),
    "report_not_received": ("dispute",),
    "report_not_as_described": ("dispute",),
    "open_dispute": ("dispute",),
    "escalate_dispute": ("dispute",),
    "ask_return": ("return",),
    "report_confirmed_by_mistake": ("return",),
    "check_order_status": ("status",),
}

# Short follow-ups: they keep the topic and the order already in the conversation (issue 8, point 1).
FOLLOWUPS = ("ask_when", "ask_if_seller_refuses", "ask_options", "ask_contact_seller", "ask_return_shipping",
             "ask_escalation")
# A follow-up told apart from its intent by its words (orderdesk.nlp.cues): "what if the seller never
# answers?" comes as ask_if_seller_refuses.
SILENCE_FOLLOWUP = "ask_if_seller_silent"

# Buyer-readable titles for the clarification buttons ("{item}" is the order in play, when there is one).
TITLES: dict[str, tuple[str, str]] = {
    # intent: (with an order in play, without)
    "cancel_order": ("Cancel the {item}", "Cancel an order"),
    "ask_no_cancel_button": ("No Cancel button for the {item}", "There's no Cancel button"),
    "ask_cancel_after_shipment": ("Cancel the {item} after it shipped", "Cancel after shipping"),
    "report_seller_rejected_cancellation": ("The seller rejected my cancellation", "The seller rejected my cancellation"),
    "ask_cancellation_status": ("My cancellation of the {item}", "My cancellation request"),
    "report_seller_cancelled": ("The seller cancelled the {item}", "The seller cancelled my order"),
    "ask_unpaid_order": ("The unpaid order", "An order I haven't paid"),
    "ask_refund": ("A refund for the {item}", "How to get a refund"),
    "ask_refund_status": ("My refund for the {item}", "Where my refund is"),
    "ask_refund_destination": ("Where the refund for the {item} goes", "Where a refund goes"),
    "report_not_received": ("The {item} hasn't arrived", "A parcel that hasn't come"),
    "report_not_as_described": ("A problem with the {item}", "An item that's wrong or broken"),
    "open_dispute": ("A dispute about the {item}", "Opening a dispute"),
    "escalate_dispute": ("Escalating the dispute", "Escalating a dispute"),
    "ask_return": ("Returning the {item}", "Returning an item"),
    "report_confirmed_by_mistake": ("I confirmed receipt by mistake", "I confirmed receipt by mistake"),
    "check_order_status": ("Where the {item} is", "Where my order is"),
    "ask_when": ("When it happens", "When it happens"),
    "ask_options": ("What I can do now", "What I can do now"),
    "human_handoff": ("Talk to a person", "Talk to a person"),
}

# Which of the policy's answers a question family turns on ("when will I get it?" after a refund
# question is about the refund).
FAMILY = {"cancel": "cancel", "refund": "refund", "dispute": "dispute", "return": "return",
          "destination": "refund", "status": "status"}

# What to say when no order is in play yet.
GENERAL: dict[str, str] = {
    "cancel_order": "utter_general_cancel",
    "ask_no_cancel_button": "utter_general_cancel",
    "ask_cancel_after_shipment": "utter_general_cancel",
    "report_seller_rejected_cancellation": "utter_general_dispute",
    "ask_cancellation_status": "utter_general_cancel",
    "report_seller_cancelled": "utter_general_refund",
    "ask_unpaid_order": "utter_general_unpaid",
    "ask_refund": "utter_general_refund",
    "ask_refund_status": "utter_general_refund",
    "ask_refund_destination": "utter_general_refund_destination",
    "report_not_received": "utter_general_dispute",
    "report_not_as_described": "utter_general_dispute",
    "open_dispute": "utter_general_dispute",
    "escalate_dispute": "utter_general_dispute",
    "ask_return": "utter_general_return",
    "report_confirmed_by_mistake": "utter_general_return",
    "check_order_status": "utter_general_status",
}

# Every variable a response may use; each is always filled ("-" when it does not apply).
VARIABLES = (
    "order_number", "item", "amount", "currency", "status_text", "deadline", "closes_at", "button_appears_at",
    "seller_answer_by", "ship_by", "shipped_at", "delivery_window_ends", "dispute_until", "escalates_at",
    "escalated_at", "return_until", "refund_expected_by", "closed_at", "completed_at", "confirmed_at",
    "received_at", "requested_at", "rejected_at", "opened_at", "refund_min_days", "refund_max_days",
    "refund_nshipped_min", "refund_nshipped_max", "destination_text", "tracking_number", "seller_hours",
    "check_hours", "return_days", "dispute_state", "refund_kind", "escalation_days",
)

STATUS_TEXT = {
    "awaiting_payment": "waiting for payment",
    "payment_processing": "payment being checked",
    "awaiting_shipment": "waiting for the seller to ship",
    "awaiting_delivery": "shipped",
    "completed": "completed",
    "closed": "closed",
}


def response_for_rule(rule: str) -> str:
    return "utter_rule_" + rule.replace(".", "_")


def template_vars(decision: Decision, cfg: PolicyConfig = DEFAULT) -> dict[str, Any]:
    o, now = decision.order, decision.now
    f = lambda dt: fmt(dt, now) if dt else "-"  # noqa: E731
    out: dict[str, Any] = {k: "-" for k in VARIABLES}
    for a in decision.answers().values():
        for name, dt in a.dates.items():
            out[name] = f(dt)
    refund = decision.refund.facts
    c, d = o.cancellation, o.dispute
    out.update(
        order_number=o.id, item=o.item, amount=f"{o.amount}", currency=o.currency,
        status_text=STATUS_TEXT[o.status.value],
        shipped_at=f(o.shipped_at), closed_at=f(o.closed_at), completed_at=f(completion_at(o, cfg)),
        # also while a dispute is open (no answer dates it then): the status still states it
        delivery_window_ends=f(delivery_window_ends(o, cfg)),
        confirmed_at=f(o.confirmed_at), received_at=f(received_at(o)),
        requested_at=f(c.requested_at) if c else "-", rejected_at=f(c.responded_at) if c else "-",
        opened_at=f(d.opened_at) if d else "-", escalated_at=f(d.escalated_at) if d else "-",
        dispute_state=d.state.value if d else "-", refund_kind=d.refund.value if d else "-",
        tracking_number=(c.tracking_number if c and c.tracking_number else o.tracking_number) or "-",
        refund_min_days=refund.get("refund_min_days", cfg.refund_min_days),
        refund_max_days=refund.get("refund_max_days", cfg.refund_max_days),
        refund_nshipped_min=cfg.refund_not_shipped_min_days, refund_nshipped_max=cfg.refund_not_shipped_max_days,
        destination_text=refund_destination(o.payment_method)[1], seller_hours=cfg.seller_response_hours,
        check_hours=cfg.payment_check_hours, return_days=cfg.return_window_days,
        escalation_days=cfg.dispute_escalation_days,
    )
    if out["return_until"] == "-" and received_at(o) is not None:
        out["return_until"] = f(return_until(o, cfg))
    return out


def plan_answer(intent: str, decision: Decision) -> tuple[list[str], Optional[str], Optional[datetime]]:
    """(response names to send, what to offer to file, the deadline that matters) for a question."""
    o = decision.order
    needs = TOPICS.get(intent, ("status",))
    responses: list[str] = []
    deadline: Optional[datetime] = None
    if o.closed_reason is not None and needs != ("status",):
        responses.append(f"utter_closed_{o.closed_reason.value}")
    delivered = is_delivered(o)
    # Confirmed receipt, then says it hasn't come (or that it was a mistake): the seller has been paid.
    if (intent in ("report_confirmed_by_mistake", "report_not_received") and o.confirmed_at is not None
            and decision.dispute.allowed):
        return ["utter_confirmed_by_mistake"], "dispute", decision.dispute.deadline
    for q in needs:
        if q == "dispute" and delivered and intent == "report_not_received" and decision.dispute.allowed:
            # Tracking says delivered, the buyer says it never came: a dispute for a parcel not received.
            responses.append(DELIVERED_NOT_RECEIVED)
            deadline = deadline or decision.dispute.deadline
            continue
        if q == "status":
            responses.append("utter_status_delivered" if delivered else f"utter_status_{o.status.value}")
            if o.closed_reason is not None:
                responses.append(f"utter_closed_{o.closed_reason.value}")
            if o.status.value == "completed":  # what buyer protection still allows, and until when
                responses.append(response_for_rule(decision.dispute.rule))
            continue
        if q == "destination":
            responses.append("utter_refund_destination_" + refund_destination(o.payment_method)[0])
            continue
        a: Answer = decision.answers()[q]
        responses.append(_delivered_variant(response_for_rule(a.rule)) if delivered else response_for_rule(a.rule))
        deadline = deadline or a.deadline
        if a.rule == "cancel.completed" and "dispute" not in needs:
            # Whether a dispute is still possible (and until when) is the dispute rule's to say.
            responses.append(response_for_rule(decision.dispute.rule))
    if o.closed_reason is not None and o.closed_reason.value == "seller_cancelled" and needs != ("status",):
        responses.append("utter_seller_cancelled_advice")
    offer = _offer(intent, decision)
    return responses, offer, deadline


# Rules whose wording assumes the parcel may not have come: a delivered order gets its own.
DELIVERED_VARIANTS = {"utter_rule_dispute_in_transit": "utter_delivered_dispute_in_transit",
                      "utter_rule_cancel_shipped": "utter_delivered_cancel_shipped"}
# Tracking says delivered but the buyer says nothing came: a dispute, never a return or "keep the item".
DELIVERED_NOT_RECEIVED = "utter_delivered_not_received"


def is_delivered(o: Any) -> bool:
    """Delivered and not yet completed, with no dispute (a dispute's answers say what matters then)."""
    return o.status.value == "awaiting_delivery" and received_at(o) is not None and o.dispute is None


def _delivered_variant(response: str) -> str:
    return DELIVERED_VARIANTS.get(response, response)


def plan_followup(kind: str, topic: Optional[str], decision: Decision) -> list[str]:
    """The responses for a follow-up question about the order and topic in play."""
    o = decision.order
    delivered = is_delivered(o)
    answers = decision.answers()
    needs = TOPICS.get(topic or "", ("status",))
    family = FAMILY.get(needs[-1], "status")

    not_received = topic == "report_not_received"

    def rule(q: str) -> str:
        if q == "dispute" and delivered and not_received and answers["dispute"].allowed:
            return DELIVERED_NOT_RECEIVED
        r = response_for_rule(answers[q].rule)
        return _delivered_variant(r) if delivered else r

    dispute_live = o.dispute is not None and o.dispute.state.value == "open"
    if kind == "ask_if_seller_silent":
        # "What if the seller never answers?": a pending or possible cancellation is cancelled
        # automatically; an open dispute goes to the platform. Both are in the rule's answer.
        if dispute_live:
            return [rule("dispute")]
        c = o.cancellation
        if answers["cancel"].allowed or (c is not None and c.state.value == "pending"):
            return [rule("cancel")]
        kind = "ask_if_seller_refuses"
    if kind == "ask_if_seller_refuses":
        if dispute_live:
            return ["utter_followup_refuses_dispute"]
        if family in ("dispute", "return") or o.status.value in ("awaiting_delivery", "completed"):
            return ["utter_followup_refuses_dispute_general"]
        return ["utter_followup_refuses_cancel"]
    if kind == "ask_escalation":
        return [rule("dispute"), "utter_escalation_explained"] if o.dispute is not None else ["utter_escalation_explained"]
    if kind == "ask_contact_seller":
        seller_cancelled = o.closed_reason is not None and o.closed_reason.value == "seller_cancelled"
        return ["utter_contact_seller_cancelled"] if seller_cancelled else ["utter_contact_seller"]
    if kind == "ask_return_shipping":
        return ["utter_return_shipping"]
    if kind == "ask_options":
        # A parcel that never came has nothing to return (nor to keep for a partial refund).
        asked = ("cancel", "dispute") if not_received else ("cancel", "dispute", "return")
        out = [rule(q) for q in asked if answers[q].allowed]
        out = list(dict.fromkeys(out))
        return out or ([rule(family)] if family != "status" else [f"utter_status_{o.status.value}"])
    # ask_when: the date the topic turns on
    if family == "status":
        if o.status.value == "closed" and answers["refund"].allowed:
            return [rule("refund")]
        return ["utter_status_delivered" if delivered else f"utter_status_{o.status.value}"]
    return [rule(family)]


def _offer(intent: str, decision: Decision) -> Optional[str]:
    cancel, dispute = decision.cancel, decision.dispute
    # A question about cancelling, or about a refund whose way is a cancellation: offer to file it when the
    # policy allows ("can I cancel my lamp?" is answered and then acted on, not only explained).
    if intent in ("cancel_order", "ask_no_cancel_button", "ask_cancellation_status", "ask_unpaid_order",
                  "ask_cancel_after_shipment") or (
        intent in ("ask_refund", "ask_refund_status") and decision.refund.rule == "refund.cancel_first"
    ):
        return "cancel" if cancel.allowed else None
    if intent == "escalate_dispute":
        return "escalate" if dispute.rule == "dispute.open" else None
    if intent in ("report_not_received", "report_not_as_described", "open_dispute",
                  "report_seller_rejected_cancellation", "ask_return", "ask_refund"):
        return "dispute" if dispute.allowed else None
    return None
