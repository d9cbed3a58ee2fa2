"""Turning a policy decision into the responses to send, and the values that fill them.

No Rasa imports and no I/O: the wording lives in domain.yml; this module only picks which
responses to send. The values (dates, policy numbers, phrases) come from `orderdesk.wording`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from orderdesk.policy import Answer, Decision, received_at
from orderdesk.policy_config import PolicyConfig
from orderdesk.topics import Topic, topic
from orderdesk.wording import (VARIABLES, config_vars, destination_response, response_for_rule,  # noqa: F401
                               rule_response, variables)

def template_vars(decision: Decision, cfg: Optional[PolicyConfig] = None, texts=None) -> dict[str, Any]:
    """Every value a response about the decision's order may name (`orderdesk.wording.variables`): its
    dates, and the policy numbers the decision was made with."""
    return variables(decision, cfg, texts)

# A follow-up told apart from its intent by its words (orderdesk.nlp.cues): "what if the seller never
# answers?" comes as ask_if_seller_refuses.
SILENCE_FOLLOWUP = "ask_if_seller_silent"


def plan_answer(question: Optional[str], decision: Decision) -> tuple[list[str], Optional[str], Optional[datetime]]:
    """(response names to send, what to offer to file, the deadline that matters) for a question
    (a topic's key, `orderdesk.topics`)."""
    o = decision.order
    asked = topic(question)
    needs = asked.answers
    responses: list[str] = []
    deadline: Optional[datetime] = None
    if o.closed_reason is not None and needs != ("status",):
        responses.append(f"utter_closed_{o.closed_reason.value}")
    delivered = is_delivered(o)
    # Confirmed receipt, then says it hasn't come (or that it was a mistake): the seller has been paid.
    if asked.confirmed_by_mistake and o.confirmed_at is not None and decision.dispute.allowed:
        return ["utter_confirmed_by_mistake"], "dispute", decision.dispute.deadline
    for q in needs:
        if q == "dispute" and delivered and asked.key == "not_received" and decision.dispute.allowed:
            # Tracking says delivered, the buyer says it never came: a dispute for a parcel not received.
            responses.append(DELIVERED_NOT_RECEIVED)
            deadline = deadline or decision.dispute.deadline
            continue
        if q == "status":
            responses.append("utter_status_delivered" if delivered else f"utter_status_{o.status.value}")
            if o.closed_reason is not None:
                responses.append(f"utter_closed_{o.closed_reason.value}")
            if o.status.value == "completed" or o.dispute is not None:
                # What buyer protection still allows and until when, or where the order's dispute stands.
                responses.append(rule_response(decision, "dispute"))
            continue
        if q == "destination":
            if decision.answers()["refund"].rule == "refund.in_progress":
                # A refund on its way: where it goes, with how much and by when (that answer names the destination).
                responses.append(rule_response(decision, "refund"))
            else:
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
    offer = _offer(asked, decision)
    return responses, offer, deadline


# Rules whose wording assumes the parcel may not have come: a delivered order gets its own.
DELIVERED_VARIANTS = {"utter_rule_dispute_in_transit": "utter_delivered_dispute_in_transit",
                      "utter_rule_cancel_shipped": "utter_delivered_cancel_shipped",
                      # an item that came can be kept for part of the money ("can I keep it and get some back?")
                      "utter_rule_refund_via_dispute": "utter_delivered_refund_via_dispute"}
# A refund on its way: nothing for the buyer to do.
REFUND_UNDER_WAY = "refund.in_progress"
FOLLOWUP_REFUND_AUTOMATIC = "utter_followup_refund_automatic"
# Tracking says delivered but the buyer says nothing came: a dispute, never a return or "keep the item".
DELIVERED_NOT_RECEIVED = "utter_delivered_not_received"


def is_delivered(o: Any) -> bool:
    """Delivered and not yet completed, with no dispute (a dispute's answers say what matters then)."""
    return o.status.value == "awaiting_delivery" and received_at(o) is not None and o.dispute is None


def _delivered_variant(response: str) -> str:
    return DELIVERED_VARIANTS.get(response, response)


def plan_followup(kind: str, about: Optional[str], decision: Decision) -> list[str]:
    """The responses for a follow-up question about the order and topic in play (`about`, a topic's key)."""
    o = decision.order
    delivered = is_delivered(o)
    answers = decision.answers()
    family = topic(about).about

    not_received = topic(about).key == "not_received"

    def rule(q: str) -> str:
        if q == "dispute" and delivered and not_received and answers["dispute"].allowed:
            return DELIVERED_NOT_RECEIVED
        r = rule_response(decision, q)
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
        if not out and answers["refund"].rule == REFUND_UNDER_WAY:
            # Nothing to file, and the refund is already coming: say so ("do I need to do anything?").
            return [rule("refund"), FOLLOWUP_REFUND_AUTOMATIC]
        return out or ([rule(family)] if family != "status" else [f"utter_status_{o.status.value}"])
    if kind == "ask_why":
        # "why?", "how come it got closed?": the reason for the order's state, for the topic in play.
        if o.closed_reason is not None:
            return [f"utter_closed_{o.closed_reason.value}"]
        if family == "status":
            return ["utter_status_delivered" if delivered else f"utter_status_{o.status.value}"]
        return [rule(family)]
    # ask_when: the date the topic turns on
    if family == "status" and o.dispute is not None:
        return [rule("dispute")]  # an order with a dispute: the dispute's dates are the ones that matter
    if family == "status":
        if o.status.value == "closed" and answers["refund"].allowed:
            return [rule("refund")]
        return ["utter_status_delivered" if delivered else f"utter_status_{o.status.value}"]
    if family == "cancel" and answers["cancel"].rule == "cancel.completed" and answers["dispute"].allowed:
        # "how long do i have" after "it can't be cancelled": the date left is the dispute's.
        return [rule("cancel"), rule("dispute")]
    return [rule(family)]


def _offer(asked: Topic, decision: Decision) -> Optional[str]:
    cancel, dispute = decision.cancel, decision.dispute
    # A question about cancelling, or about a refund whose way is a cancellation: offer to file it when the
    # policy allows ("can I cancel my lamp?" is answered and then acted on, not only explained).
    if asked.offer == "cancel" or (asked.cancel_first and decision.refund.rule == "refund.cancel_first"):
        return "cancel" if cancel.allowed else None
    if asked.offer == "escalate":
        return "escalate" if dispute.rule == "dispute.open" else None
    if asked.offer == "dispute":
        return "dispute" if dispute.allowed else None
    return None
