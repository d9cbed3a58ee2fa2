"""Turning a policy decision into the responses to send, and the values that fill them.

No Rasa imports and no I/O: the wording lives in domain.yml; this module only picks which
responses to send. The values (dates, policy numbers, phrases) come from `orderdesk.wording`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from orderdesk.policy import Answer, Decision, received_at
from orderdesk.policy_config import PolicyConfig
from orderdesk.wording import (VARIABLES, config_vars, destination_response, response_for_rule,  # noqa: F401
                               rule_response, variables)

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

def template_vars(decision: Decision, cfg: Optional[PolicyConfig] = None, texts=None) -> dict[str, Any]:
    """Every value a response about the decision's order may name (`orderdesk.wording.variables`): its
    dates, and the policy numbers the decision was made with."""
    return variables(decision, cfg, texts)


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
        if q == "status":
            responses.append("utter_status_delivered" if delivered else f"utter_status_{o.status.value}")
            if o.closed_reason is not None:
                responses.append(f"utter_closed_{o.closed_reason.value}")
            if o.status.value == "completed":  # what buyer protection still allows, and until when
                responses.append(rule_response(decision, "dispute"))
            continue
        if q == "destination":
            responses.append(destination_response(o.payment_method))
            continue
        a: Answer = decision.answers()[q]
        said = rule_response(decision, q)
        responses.append(_delivered_variant(said) if delivered else said)
        deadline = deadline or a.deadline
        if a.rule == "cancel.completed" and "dispute" not in needs:
            # Whether a dispute is still possible (and until when) is the dispute rule's to say.
            responses.append(rule_response(decision, "dispute"))
    if o.closed_reason is not None and o.closed_reason.value == "seller_cancelled" and needs != ("status",):
        responses.append("utter_seller_cancelled_advice")
    offer = _offer(intent, decision)
    return responses, offer, deadline


# Rules whose wording assumes the parcel may not have come: a delivered order gets its own.
DELIVERED_VARIANTS = {"utter_rule_dispute_in_transit": "utter_delivered_dispute_in_transit",
                      "utter_rule_cancel_shipped": "utter_delivered_cancel_shipped"}


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

    def rule(q: str) -> str:
        r = rule_response(decision, q)
        return _delivered_variant(r) if delivered else r

    dispute_live = o.dispute is not None and o.dispute.state.value == "open"
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
        out = [rule(q) for q in ("cancel", "dispute", "return") if answers[q].allowed]
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
