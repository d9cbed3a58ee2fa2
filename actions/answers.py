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
from orderdesk.topics import Topic, topic

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
    offer = _offer(asked, decision)
    return responses, offer, deadline


# Rules whose wording assumes the parcel may not have come: a delivered order gets its own.
DELIVERED_VARIANTS = {"utter_rule_dispute_in_transit": "utter_delivered_dispute_in_transit",
                      "utter_rule_cancel_shipped": "utter_delivered_cancel_shipped"}


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

    def rule(q: str) -> str:
        r = response_for_rule(answers[q].rule)
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
