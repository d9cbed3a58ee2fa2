"""The order policy: what this buyer can do with this order, why, and until when.

Pure functions over an `Order` snapshot and `now`. No database, no Rasa, no
clock: callers pass `now` (timezone-aware). Every number comes from
`orderdesk.policy_config` (with its source).

Deadlines are half-open: an action allowed "until D" is allowed while
`now < D`; a transition due "at D" has happened when `now >= D`.

Vocabulary of `Answer.how`:
  instant         the buyer does it in My Orders and it takes effect at once
  seller_approval a request goes to the seller, who has `seller_response_hours` to answer
  automatic       nothing to do: it happens by itself (a refund, an auto-cancel)
  wait            not yet possible; possible from `deadline`
  dispute         through a dispute (Open a Dispute on the order page)
  escalate        escalate the open dispute to the platform
  contact_seller  only if the seller agrees in a message
  contact_support something went wrong that a person must look into
  not_available   not possible for this order any more

Rule ids are `<question>.<situation>`; `RULES` lists them all. An `Answer` carries no wording:
its rule id, `dates` and `facts` (with the order and the `PolicyConfig`) are what the buyer's
wording is filled from (`orderdesk.wording`, responses in domain.yml).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Mapping, Optional

from .model import (
    CancellationState,
    ClosedReason,
    CompletedReason,
    DisputeState,
    Order,
    PaymentMethod,
    Status,
)
from .policy_config import DEFAULT, PolicyConfig

QUESTIONS = ("cancel", "refund", "dispute", "return")


class How(str, enum.Enum):
    INSTANT = "instant"
    SELLER_APPROVAL = "seller_approval"
    AUTOMATIC = "automatic"
    WAIT = "wait"
    DISPUTE = "dispute"
    ESCALATE = "escalate"
    CONTACT_SELLER = "contact_seller"
    CONTACT_SUPPORT = "contact_support"
    NOT_AVAILABLE = "not_available"


@dataclass(frozen=True)
class Answer:
    question: str
    allowed: bool
    how: How
    rule: str
    deadline: Optional[datetime] = None
    dates: Mapping[str, datetime] = field(default_factory=dict)
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    """A time-driven change that is due for an order."""

    kind: str  # unpaid_closed | payment_verified | seller_silent | not_shipped | delivery_window_ended | dispute_escalated
    at: datetime  # when it became due (the deadline itself)
    from_status: Status
    to_status: Status
    refund_due: bool = False


@dataclass(frozen=True)
class Decision:
    order: Order  # the snapshot as of `now` (due transitions applied)
    now: datetime
    transitions: tuple[Transition, ...]
    cancel: Answer
    refund: Answer
    dispute: Answer
    return_: Answer
    config: PolicyConfig = DEFAULT  # the numbers the answers were decided with (and the wording names)

    @property
    def status(self) -> Status:
        return self.order.status

    def answers(self) -> dict[str, Answer]:
        return {"cancel": self.cancel, "refund": self.refund, "dispute": self.dispute, "return": self.return_}


# --------------------------------------------------------------------------- dates

def _days(n: int) -> timedelta:
    return timedelta(days=n)


def payment_verified_at(o: Order, cfg: PolicyConfig = DEFAULT) -> datetime:
    return (o.paid_at or o.placed_at) + timedelta(hours=cfg.payment_check_hours)


def ship_by(o: Order, cfg: PolicyConfig = DEFAULT) -> datetime:
    """Handling time counts in calendar days from the end of the payment check."""
    days = cfg.default_handling_days if o.handling_days is None else o.handling_days
    return payment_verified_at(o, cfg) + _days(days)


def unpaid_close_at(o: Order, cfg: PolicyConfig = DEFAULT) -> datetime:
    return o.placed_at + _days(cfg.unpaid_close_days)


def seller_answer_by(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    if o.cancellation is None:
        return None
    return o.cancellation.requested_at + timedelta(hours=cfg.seller_response_hours)


def delivery_window_ends(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    if o.shipped_at is None:
        return None
    days = cfg.default_delivery_days if o.delivery_days is None else o.delivery_days
    return o.shipped_at + _days(days)


def completion_at(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    """When buyer protection's clock for disputes starts: completion, actual or scheduled."""
    if o.completed_at is not None:
        return o.completed_at
    if o.confirmed_at is not None:
        return o.confirmed_at
    return delivery_window_ends(o, cfg)


def dispute_until(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    done = completion_at(o, cfg)
    return None if done is None else done + _days(cfg.dispute_after_completion_days)


def escalates_at(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    if o.dispute is None:
        return None
    return o.dispute.opened_at + _days(cfg.dispute_escalation_days)


def received_at(o: Order) -> Optional[datetime]:
    return o.delivered_at or o.confirmed_at


def return_until(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[datetime]:
    got = received_at(o)
    return None if got is None else got + _days(cfg.return_window_days)


def dispute_active(o: Order) -> bool:
    return o.dispute is not None and o.dispute.state in (DisputeState.OPEN, DisputeState.ESCALATED)


# --------------------------------------------------------------------------- transitions

def next_transition(o: Order, cfg: PolicyConfig = DEFAULT) -> Optional[Transition]:
    """The earliest time-driven transition pending for this order, due or not."""
    candidates: list[Transition] = []
    s = o.status
    if s is Status.AWAITING_PAYMENT:
        candidates.append(Transition("unpaid_closed", unpaid_close_at(o, cfg), s, Status.CLOSED))
    elif s is Status.PAYMENT_PROCESSING:
        candidates.append(Transition("payment_verified", payment_verified_at(o, cfg), s, Status.AWAITING_SHIPMENT))
    elif s is Status.AWAITING_SHIPMENT:
        c = o.cancellation
        if c is not None and c.state is CancellationState.PENDING:
            candidates.append(Transition("seller_silent", seller_answer_by(o, cfg), s, Status.CLOSED, True))
        candidates.append(Transition("not_shipped", ship_by(o, cfg), s, Status.CLOSED, True))
    elif s is Status.AWAITING_DELIVERY and not dispute_active(o):
        candidates.append(
            Transition("delivery_window_ended", delivery_window_ends(o, cfg), s, Status.COMPLETED)
        )
    if o.dispute is not None and o.dispute.state is DisputeState.OPEN:
        candidates.append(Transition("dispute_escalated", escalates_at(o, cfg), s, s))
    # min() keeps the first of equal times: the seller's silence wins over the shipping deadline.
    return min(candidates, key=lambda t: t.at) if candidates else None


def apply_transition(o: Order, t: Transition) -> Order:
    if t.kind == "unpaid_closed":
        return replace(o, status=Status.CLOSED, closed_at=t.at, closed_reason=ClosedReason.UNPAID_TIMEOUT)
    if t.kind == "payment_verified":
        return replace(o, status=Status.AWAITING_SHIPMENT)
    if t.kind == "seller_silent":
        c = replace(o.cancellation, state=CancellationState.AUTO_APPROVED)
        return replace(o, status=Status.CLOSED, closed_at=t.at, closed_reason=ClosedReason.SELLER_NO_RESPONSE,
                       cancellation=c)
    if t.kind == "not_shipped":
        return replace(o, status=Status.CLOSED, closed_at=t.at, closed_reason=ClosedReason.NOT_SHIPPED_IN_TIME)
    if t.kind == "delivery_window_ended":
        return replace(o, status=Status.COMPLETED, completed_at=t.at,
                       completed_reason=CompletedReason.DELIVERY_WINDOW_ENDED)
    if t.kind == "dispute_escalated":
        return replace(o, dispute=replace(o.dispute, state=DisputeState.ESCALATED, escalated_at=t.at))
    raise ValueError(f"unknown transition {t.kind!r}")


def advance(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> tuple[Order, list[Transition]]:
    """Apply every transition due at `now`, in time order ("as if swept at now")."""
    _check_aware(now)
    done: list[Transition] = []
    for _ in range(10):  # each transition moves the order forward; a handful at most
        t = next_transition(o, cfg)
        if t is None or now < t.at:
            break
        o = apply_transition(o, t)
        done.append(t)
    return o, done


# --------------------------------------------------------------------------- facts

def refund_destination(method: Optional[PaymentMethod]) -> str:
    """Where a refund goes (000, 003): a card linked through Alipay is refunded to the Alipay balance,
    which can only be spent on the marketplace; everything else goes back to what the buyer paid with."""
    if method is PaymentMethod.ALIPAY_CARD:
        return "alipay_balance"
    if method is PaymentMethod.CARD:
        return "card"
    if method is PaymentMethod.PAYPAL:
        return "paypal"
    if method is PaymentMethod.WALLET:
        return "wallet"
    return "payment_method"


def refund_days(o: Order, cfg: PolicyConfig = DEFAULT) -> tuple[int, int]:
    if o.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME:
        return cfg.refund_not_shipped_min_days, cfg.refund_not_shipped_max_days
    return cfg.refund_min_days, cfg.refund_max_days


def _refund_facts(o: Order, cfg: PolicyConfig) -> dict[str, Any]:
    lo, hi = refund_days(o, cfg)
    return {"refund_min_days": lo, "refund_max_days": hi, "destination": refund_destination(o.payment_method)}


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


# --------------------------------------------------------------------------- the four answers

def decide(order: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Decision:
    o, transitions = advance(order, now, cfg)
    return Decision(
        order=o,
        now=now,
        transitions=tuple(transitions),
        cancel=cancel_answer(o, now, cfg),
        refund=refund_answer(o, now, cfg),
        dispute=dispute_answer(o, now, cfg),
        return_=return_answer(o, now, cfg),
        config=cfg,
    )


def cancel_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, deadline=None, **dates: Answer(  # noqa: E731
        "cancel", allowed, how, rule, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s, c = o.status, o.cancellation
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "cancel.closed",
                 closed_at=o.closed_at)
    if dispute_active(o):
        return a(False, How.DISPUTE, "cancel.dispute_open", escalates_at=escalates_at(o, cfg))
    if s is Status.AWAITING_PAYMENT:
        close = unpaid_close_at(o, cfg)
        return a(True, How.INSTANT, "cancel.unpaid", close, closes_at=close)
    if s is Status.PAYMENT_PROCESSING:
        ready = payment_verified_at(o, cfg)
        return a(False, How.WAIT, "cancel.payment_check",
                 ready, button_appears_at=ready)
    if c is not None and c.state is CancellationState.REJECTED and s in (Status.AWAITING_SHIPMENT,
                                                                        Status.AWAITING_DELIVERY):
        ends = delivery_window_ends(o, cfg)
        return a(False, How.DISPUTE, "cancel.rejected",
                 None, rejected_at=c.responded_at, delivery_window_ends=ends)
    if s is Status.AWAITING_SHIPMENT:
        deadline_ship = ship_by(o, cfg)
        if c is not None and c.state is CancellationState.PENDING:
            answer_by = seller_answer_by(o, cfg)
            return a(False, How.AUTOMATIC, "cancel.request_pending",
                     min(answer_by, deadline_ship), seller_answer_by=answer_by, ship_by=deadline_ship)
        return a(True, How.SELLER_APPROVAL, "cancel.request_seller",
                 deadline_ship, ship_by=deadline_ship)
    if s is Status.AWAITING_DELIVERY:
        ends = delivery_window_ends(o, cfg)
        return a(False, How.CONTACT_SELLER, "cancel.shipped", None, shipped_at=o.shipped_at, delivery_window_ends=ends)
    # completed
    until = dispute_until(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        until = None
    return a(False, How.DISPUTE if until and now < until else How.NOT_AVAILABLE, "cancel.completed", None, dispute_until=until)


def refund_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    facts = _refund_facts(o, cfg)
    hi = facts["refund_max_days"]
    a = lambda allowed, how, rule, deadline=None, **dates: Answer(  # noqa: E731
        "refund", allowed, how, rule, deadline, {k: v for k, v in dates.items() if v is not None}, facts
    )
    s, c = o.status, o.cancellation
    if not o.was_paid:
        close = unpaid_close_at(o, cfg) if s is Status.AWAITING_PAYMENT else None
        return a(False, How.NOT_AVAILABLE, "refund.nothing_paid",
                 close, closes_at=close)
    if s is Status.CLOSED:
        if o.closed_reason is ClosedReason.BUYER_CANCELLED or o.closed_reason is ClosedReason.UNPAID_TIMEOUT:
            return a(False, How.NOT_AVAILABLE, "refund.nothing_paid")
        expected = o.closed_at + _days(hi)
        if now < expected:
            return a(True, How.AUTOMATIC, "refund.in_progress", expected,
                     closed_at=o.closed_at, refund_expected_by=expected)
        return a(True, How.CONTACT_SUPPORT, "refund.overdue", None,
                 refund_expected_by=expected)
    if s is Status.PAYMENT_PROCESSING:
        ready = payment_verified_at(o, cfg)
        return a(False, How.WAIT, "refund.payment_check", ready, button_appears_at=ready)
    if dispute_active(o):
        d = o.dispute
        esc = escalates_at(o, cfg)
        if d.state is DisputeState.OPEN:
            return a(True, How.ESCALATE, "refund.dispute_open",
                     esc, escalates_at=esc)
        return a(True, How.AUTOMATIC, "refund.dispute_escalated", None,
                 escalated_at=d.escalated_at)
    if s is Status.AWAITING_SHIPMENT and c is not None and c.state is CancellationState.REJECTED:
        return a(True, How.DISPUTE, "refund.after_rejection", None)
    if s is Status.AWAITING_SHIPMENT:
        deadline_ship = ship_by(o, cfg)
        if c is not None and c.state is CancellationState.PENDING:
            answer_by = seller_answer_by(o, cfg)
            return a(True, How.AUTOMATIC, "refund.awaiting_seller", min(answer_by, deadline_ship), seller_answer_by=answer_by, ship_by=deadline_ship)
        return a(True, How.SELLER_APPROVAL, "refund.cancel_first",
                 deadline_ship, ship_by=deadline_ship)
    until = dispute_until(o, cfg)
    if o.dispute is not None:
        return a(False, How.NOT_AVAILABLE, "refund.dispute_closed")
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "refund.confirmed_no_refund")
    if until is not None and now < until:
        ends = delivery_window_ends(o, cfg)
        if s is Status.AWAITING_DELIVERY:
            return a(True, How.DISPUTE, "refund.via_dispute", ends,
                     delivery_window_ends=ends, dispute_until=until)
        return a(True, How.DISPUTE, "refund.via_dispute", until, dispute_until=until)
    return a(False, How.NOT_AVAILABLE, "refund.window_closed",
             None, dispute_until=until)


def dispute_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, deadline=None, **dates: Answer(  # noqa: E731
        "dispute", allowed, how, rule, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s, d = o.status, o.dispute
    if d is not None and d.state is DisputeState.OPEN:
        esc = escalates_at(o, cfg)
        return a(False, How.ESCALATE, "dispute.open", esc, escalates_at=esc)
    if d is not None and d.state is DisputeState.ESCALATED:
        return a(False, How.AUTOMATIC, "dispute.escalated", None, escalated_at=d.escalated_at)
    if d is not None:
        return a(False, How.NOT_AVAILABLE, "dispute.ended")
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "dispute.order_closed")
    if s in (Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT):
        deadline = ship_by(o, cfg) if s is Status.AWAITING_SHIPMENT else None
        return a(False, How.NOT_AVAILABLE, "dispute.not_shipped",
                 deadline, ship_by=deadline)
    until = dispute_until(o, cfg)
    ends = delivery_window_ends(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "dispute.confirmed_no_refund")
    if s is Status.AWAITING_DELIVERY:
        return a(True, How.DISPUTE, "dispute.in_transit", ends,
                 delivery_window_ends=ends, dispute_until=until)
    if now >= until:
        return a(False, How.NOT_AVAILABLE, "dispute.window_closed",
                 None, dispute_until=until)
    if o.completed_reason is CompletedReason.DELIVERY_WINDOW_ENDED and received_at(o) is None:
        return a(True, How.DISPUTE, "dispute.window_passed_not_delivered",
                 until, dispute_until=until)
    return a(True, How.DISPUTE, "dispute.after_completion", until, dispute_until=until)


def return_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, deadline=None, **dates: Answer(  # noqa: E731
        "return", allowed, how, rule, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s = o.status
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "return.order_closed")
    if s in (Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT):
        return a(False, How.NOT_AVAILABLE, "return.not_shipped")
    if dispute_active(o):
        return a(False, How.DISPUTE, "return.dispute_open")
    if o.dispute is not None:
        return a(False, How.NOT_AVAILABLE, "return.dispute_ended")
    got = received_at(o)
    if got is None:
        ends = delivery_window_ends(o, cfg)
        if s is Status.AWAITING_DELIVERY:
            return a(False, How.WAIT, "return.not_delivered", ends, delivery_window_ends=ends)
        until = dispute_until(o, cfg)
        if now >= until:
            return a(False, How.NOT_AVAILABLE, "return.protection_ended", None, dispute_until=until)
        return a(False, How.DISPUTE, "return.never_delivered", until, dispute_until=until)
    until = return_until(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "return.confirmed_no_refund")
    if now >= until:
        return a(False, How.NOT_AVAILABLE, "return.window_closed", None,
                 return_until=until)
    if o.confirmed_at is not None:
        return a(True, How.DISPUTE, "return.after_confirmation",
                 until, return_until=until)
    return a(True, How.DISPUTE, "return.within_window", until, return_until=until)


RULES: dict[str, tuple[str, ...]] = {
    "cancel": ("cancel.closed", "cancel.dispute_open", "cancel.unpaid", "cancel.payment_check", "cancel.rejected",
               "cancel.request_pending", "cancel.request_seller", "cancel.shipped", "cancel.completed"),
    "refund": ("refund.nothing_paid", "refund.in_progress", "refund.overdue", "refund.payment_check",
               "refund.dispute_open", "refund.dispute_escalated", "refund.after_rejection", "refund.awaiting_seller",
               "refund.cancel_first",
               "refund.dispute_closed", "refund.confirmed_no_refund", "refund.via_dispute", "refund.window_closed"),
    "dispute": ("dispute.open", "dispute.escalated", "dispute.ended", "dispute.order_closed", "dispute.not_shipped",
                "dispute.confirmed_no_refund", "dispute.in_transit", "dispute.window_closed",
                "dispute.window_passed_not_delivered", "dispute.after_completion"),
    "return": ("return.order_closed", "return.not_shipped", "return.dispute_open", "return.dispute_ended",
               "return.not_delivered", "return.never_delivered", "return.protection_ended", "return.confirmed_no_refund", "return.window_closed",
               "return.after_confirmation", "return.within_window"),
}
