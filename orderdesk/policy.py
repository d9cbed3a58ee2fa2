"""The order policy: what this buyer can do with this order, why, and until when.

Pure functions over an `Order` snapshot and `now`. No database, no Rasa, no
clock: callers pass `now` (timezone-aware). Every number comes from
`orderdesk.policy_config` (with its source).

Deadlines are half-open: an action allowed "until D" is allowed while
`now < D`; a transition due "at D" has happened when `now >= D`.

Vocabulary of `Answer.how`:
  instant         the buyer does it in My Orders and it takes effect at once
  seller_approval a request goes to the seller, who has 72 hours to answer
  automatic       nothing to do: it happens by itself (a refund, an auto-cancel)
  wait            not yet possible; possible from `deadline`
  dispute         through a dispute (Open a Dispute on the order page)
  escalate        escalate the open dispute to the platform
  contact_seller  only if the seller agrees in a message
  contact_support something went wrong that a person must look into
  not_available   not possible for this order any more

Rule ids are `<question>.<situation>`; `RULES` lists them all.
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
    explanation: str
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


# --------------------------------------------------------------------------- wording helpers

def fmt(dt: Optional[datetime], now: Optional[datetime] = None) -> str:
    """'Tue 25 Nov, 14:00 UTC' (the year only when it is not the current one)."""
    if dt is None:
        return "-"
    from datetime import timezone

    dt = dt.astimezone(timezone.utc)
    year = "" if now is not None and dt.year == now.year else f" {dt.year}"
    return f"{dt:%a} {dt.day} {dt:%b}{year}, {dt:%H:%M} UTC"


def refund_destination(method: Optional[PaymentMethod]) -> tuple[str, str]:
    """(code, wording) of where a refund goes (000, 003)."""
    if method is PaymentMethod.ALIPAY_CARD:
        return "alipay_balance", (
            "to your Alipay balance, not to the card: a card linked through Alipay is refunded to Alipay, "
            "and that balance can only be spent on the marketplace, not withdrawn to the card"
        )
    if method is PaymentMethod.CARD:
        return "card", "back to the card you paid with"
    if method is PaymentMethod.PAYPAL:
        return "paypal", "back to your PayPal account"
    if method is PaymentMethod.WALLET:
        return "wallet", "back to the e-wallet you paid with"
    return "payment_method", "back to the payment method you used"


def refund_days(o: Order, cfg: PolicyConfig = DEFAULT) -> tuple[int, int]:
    if o.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME:
        return cfg.refund_not_shipped_min_days, cfg.refund_not_shipped_max_days
    return cfg.refund_min_days, cfg.refund_max_days


def _refund_facts(o: Order, cfg: PolicyConfig) -> dict[str, Any]:
    lo, hi = refund_days(o, cfg)
    code, words = refund_destination(o.payment_method)
    return {"refund_min_days": lo, "refund_max_days": hi, "destination": code, "destination_text": words}


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
    )


def _closed_story(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> str:
    when = fmt(o.closed_at, now)
    return {
        ClosedReason.UNPAID_TIMEOUT: f"It closed by itself on {when} because it was never paid.",
        ClosedReason.BUYER_CANCELLED: f"You cancelled it on {when}, before paying.",
        ClosedReason.CANCELLATION_APPROVED: f"The seller approved your cancellation on {when}.",
        ClosedReason.SELLER_NO_RESPONSE: (
            f"It was cancelled automatically on {when} because the seller did not answer your "
            f"cancellation request within {cfg.seller_response_hours} hours."
        ),
        ClosedReason.NOT_SHIPPED_IN_TIME: (
            f"It was closed automatically on {when} because the seller did not ship it within the handling time."
        ),
        ClosedReason.SELLER_CANCELLED: f"The seller cancelled it on {when}.",
        ClosedReason.DISPUTE_REFUNDED: f"It was closed on {when} when your dispute ended with a refund.",
    }.get(o.closed_reason, f"It was closed on {when}.")


def cancel_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, text, deadline=None, **dates: Answer(  # noqa: E731
        "cancel", allowed, how, rule, text, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s, c = o.status, o.cancellation
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "cancel.closed",
                 f"This order is already closed, so there is nothing to cancel. {_closed_story(o, now, cfg)}",
                 closed_at=o.closed_at)
    if dispute_active(o):
        return a(False, How.DISPUTE, "cancel.dispute_open",
                 "There is no Cancel button because a dispute is open on this order; the dispute decides "
                 "the refund now.", escalates_at=escalates_at(o, cfg))
    if s is Status.AWAITING_PAYMENT:
        close = unpaid_close_at(o, cfg)
        return a(True, How.INSTANT, "cancel.unpaid",
                 "You haven't paid for this order, so you can cancel it at once in My Orders, with no penalty. "
                 f"If you do nothing it closes by itself on {fmt(close, now)}. No money was taken, so there is "
                 "nothing to refund.", close, closes_at=close)
    if s is Status.PAYMENT_PROCESSING:
        ready = payment_verified_at(o, cfg)
        return a(False, How.WAIT, "cancel.payment_check",
                 "There is no Cancel button yet because your payment is still being checked, which takes up "
                 f"to {cfg.payment_check_hours} hours after paying. The button appears by {fmt(ready, now)}; then "
                 f"you can request cancellation and the seller has {cfg.seller_response_hours} hours to answer.",
                 ready, button_appears_at=ready)
    if c is not None and c.state is CancellationState.REJECTED and s in (Status.AWAITING_SHIPMENT,
                                                                        Status.AWAITING_DELIVERY):
        ends = delivery_window_ends(o, cfg)
        tn = c.tracking_number or o.tracking_number
        return a(False, How.DISPUTE, "cancel.rejected",
                 f"The seller rejected your cancellation{' on ' + fmt(c.responded_at, now) if c.responded_at else ''}"
                 f"{' and gave tracking number ' + tn if tn else ''}. A rejected request can't be filed again. "
                 "If the tracking number doesn't work or shows no progress, open a dispute; otherwise receive "
                 f"the parcel and return it within {cfg.return_window_days} days of delivery."
                 + (f" If nothing has arrived by {fmt(ends, now)}, open a dispute then." if ends else ""),
                 None, rejected_at=c.responded_at, delivery_window_ends=ends)
    if s is Status.AWAITING_SHIPMENT:
        deadline_ship = ship_by(o, cfg)
        if c is not None and c.state is CancellationState.PENDING:
            answer_by = seller_answer_by(o, cfg)
            lo, hi = refund_days(o, cfg)
            return a(False, How.AUTOMATIC, "cancel.request_pending",
                     f"Your cancellation request of {fmt(c.requested_at, now)} is waiting for the seller, so the "
                     f"Cancel button is gone. The seller has until {fmt(answer_by, now)} to answer. If they don't, "
                     f"the order is cancelled automatically and your refund takes {lo}-{hi} days.",
                     min(answer_by, deadline_ship), seller_answer_by=answer_by, ship_by=deadline_ship)
        lo, hi = refund_days(o, cfg)
        return a(True, How.SELLER_APPROVAL, "cancel.request_seller",
                 "The seller hasn't shipped yet, so you can request cancellation (Cancel Order in My Orders, with "
                 f"a reason). The seller must approve it and has {cfg.seller_response_hours} hours to answer; if "
                 "they don't, the order is cancelled automatically. If the seller doesn't ship by "
                 f"{fmt(deadline_ship, now)}, the order is closed and refunded automatically anyway. "
                 f"A refund takes {lo}-{hi} days and goes {refund_destination(o.payment_method)[1]}.",
                 deadline_ship, ship_by=deadline_ship)
    if s is Status.AWAITING_DELIVERY:
        ends = delivery_window_ends(o, cfg)
        return a(False, How.CONTACT_SELLER, "cancel.shipped",
                 f"The order shipped on {fmt(o.shipped_at, now)}, so the Cancel button is gone and a cancellation "
                 "can't be filed any more. You can still ask the seller in a message; a seller who can stop the "
                 "parcel may agree, but it is rare. Otherwise receive it and return it within "
                 f"{cfg.return_window_days} days of delivery, or open a dispute if it doesn't arrive by "
                 f"{fmt(ends, now)}.", None, shipped_at=o.shipped_at, delivery_window_ends=ends)
    # completed
    until = dispute_until(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        until = None
    return a(False, How.DISPUTE if until and now < until else How.NOT_AVAILABLE, "cancel.completed",
             f"This order was completed on {fmt(o.completed_at or o.confirmed_at, now)}, so it can't be cancelled."
             + (f" If something is wrong with it you can open a dispute until {fmt(until, now)}."
                if until and now < until else ""), None, dispute_until=until)


def refund_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    facts = _refund_facts(o, cfg)
    lo, hi, dest = facts["refund_min_days"], facts["refund_max_days"], facts["destination_text"]
    a = lambda allowed, how, rule, text, deadline=None, **dates: Answer(  # noqa: E731
        "refund", allowed, how, rule, text, deadline, {k: v for k, v in dates.items() if v is not None}, facts
    )
    s, c = o.status, o.cancellation
    if not o.was_paid:
        close = unpaid_close_at(o, cfg) if s is Status.AWAITING_PAYMENT else None
        return a(False, How.NOT_AVAILABLE, "refund.nothing_paid",
                 "You haven't paid for this order, so no money was taken and there is nothing to refund."
                 + (f" Cancel it at once, or leave it: it closes by itself on {fmt(close, now)}." if close else ""),
                 close, closes_at=close)
    if s is Status.CLOSED:
        if o.closed_reason is ClosedReason.BUYER_CANCELLED or o.closed_reason is ClosedReason.UNPAID_TIMEOUT:
            return a(False, How.NOT_AVAILABLE, "refund.nothing_paid", "No money was taken for this order.")
        expected = o.closed_at + _days(hi)
        if now < expected:
            text = (f"{_closed_story(o, now, cfg)} Your refund of {o.amount} {o.currency} is on its way {dest}. "
                    f"It takes {lo}-{hi} days, so expect it by {fmt(expected, now)}. "
                    "There is no marketplace account balance, so the money can't be spent before it arrives.")
            if o.closed_reason is ClosedReason.SELLER_CANCELLED:
                text += (" Ask the seller why they cancelled and whether the item can be sent under a new order; "
                         "a seller who can't fulfil an order may ask you to cancel it, so check their messages.")
            return a(True, How.AUTOMATIC, "refund.in_progress", text, expected,
                     closed_at=o.closed_at, refund_expected_by=expected)
        return a(True, How.CONTACT_SUPPORT, "refund.overdue",
                 f"{_closed_story(o, now, cfg)} The refund of {o.amount} {o.currency} should have arrived {dest} by "
                 f"{fmt(expected, now)}. Some refunds take up to 20 working days to show (article 001); "
                 "if it still hasn't arrived, ask for a person and we will trace it.", None,
                 refund_expected_by=expected)
    if s is Status.PAYMENT_PROCESSING:
        ready = payment_verified_at(o, cfg)
        return a(False, How.WAIT, "refund.payment_check",
                 "To get your money back you first cancel the order, and the Cancel button appears only when the "
                 f"payment check ends, by {fmt(ready, now)}. After the cancellation the refund takes {lo}-{hi} days "
                 f"and goes {dest}.", ready, button_appears_at=ready)
    if dispute_active(o):
        d = o.dispute
        esc = escalates_at(o, cfg)
        if d.state is DisputeState.OPEN:
            return a(True, How.ESCALATE, "refund.dispute_open",
                     f"Your dispute of {fmt(d.opened_at, now)} ({d.refund.value} refund) decides the refund. If the "
                     f"seller doesn't settle it by {fmt(esc, now)} it goes to the platform automatically, and you can "
                     f"escalate it yourself before that. An agreed refund takes {lo}-{hi} days and goes {dest}.",
                     esc, escalates_at=esc)
        return a(True, How.AUTOMATIC, "refund.dispute_escalated",
                 f"Your dispute was escalated to the platform on {fmt(d.escalated_at, now)}; the platform now decides "
                 f"the refund. If it is granted it takes {lo}-{hi} days and goes {dest}.", None,
                 escalated_at=d.escalated_at)
    if s is Status.AWAITING_SHIPMENT and c is not None and c.state is CancellationState.REJECTED:
        tn = c.tracking_number or o.tracking_number
        return a(True, How.DISPUTE, "refund.after_rejection",
                 f"The seller rejected your cancellation{' and gave tracking number ' + tn if tn else ''}, so a "
                 "new request can't be filed. If the tracking number doesn't work or shows no progress, open a "
                 f"dispute; a refund then takes {lo}-{hi} days and goes {dest}.", None)
    if s is Status.AWAITING_SHIPMENT:
        deadline_ship = ship_by(o, cfg)
        if c is not None and c.state is CancellationState.PENDING:
            answer_by = seller_answer_by(o, cfg)
            return a(True, How.AUTOMATIC, "refund.awaiting_seller",
                     f"Your cancellation is waiting for the seller, who has until {fmt(answer_by, now)} to answer. "
                     f"If they approve or don't answer, the order is cancelled and the refund takes {lo}-{hi} days, "
                     f"{dest}.", min(answer_by, deadline_ship), seller_answer_by=answer_by, ship_by=deadline_ship)
        nlo, nhi = cfg.refund_not_shipped_min_days, cfg.refund_not_shipped_max_days
        return a(True, How.SELLER_APPROVAL, "refund.cancel_first",
                 "The order hasn't shipped, so the way to your money is a cancellation request, which the seller "
                 f"must approve within {cfg.seller_response_hours} hours (no answer means approved). The refund then "
                 f"takes {lo}-{hi} days and goes {dest}. If the seller doesn't ship by {fmt(deadline_ship, now)}, the "
                 f"order is closed and refunded automatically, usually within {nlo}-{nhi} days.",
                 deadline_ship, ship_by=deadline_ship)
    until = dispute_until(o, cfg)
    if o.dispute is not None:
        return a(False, How.NOT_AVAILABLE, "refund.dispute_closed",
                 f"Your dispute on this order ended ({o.dispute.state.value}); a second one can't be opened.")
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "refund.confirmed_no_refund",
                 f"You confirmed receipt on {fmt(o.confirmed_at, now)}, which released the payment to the seller; "
                 "under this marketplace's rule (article 000) a refund is no longer possible.")
    if until is not None and now < until:
        ends = delivery_window_ends(o, cfg)
        if s is Status.AWAITING_DELIVERY:
            text = (f"The order shipped on {fmt(o.shipped_at, now)}, so a refund now goes through a dispute: open "
                    "one if the parcel doesn't arrive, tracking stops moving, or the item isn't as described. "
                    f"If nothing has arrived by {fmt(ends, now)}, open a dispute then; you can until "
                    f"{fmt(until, now)}.")
            return a(True, How.DISPUTE, "refund.via_dispute", text, ends,
                     delivery_window_ends=ends, dispute_until=until)
        return a(True, How.DISPUTE, "refund.via_dispute",
                 f"The order was completed on {fmt(completion_at(o, cfg), now)}. A refund (full or partial) goes "
                 f"through a dispute, which you can open until {fmt(until, now)}; a refund takes {lo}-{hi} days "
                 f"and goes {dest}.", until, dispute_until=until)
    return a(False, How.NOT_AVAILABLE, "refund.window_closed",
             f"Buyer protection for this order ended on {fmt(until, now)}, so a refund can't be requested any more.",
             None, dispute_until=until)


def dispute_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, text, deadline=None, **dates: Answer(  # noqa: E731
        "dispute", allowed, how, rule, text, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s, d = o.status, o.dispute
    if d is not None and d.state is DisputeState.OPEN:
        esc = escalates_at(o, cfg)
        return a(False, How.ESCALATE, "dispute.open",
                 f"Your dispute of {fmt(d.opened_at, now)} is open. If it isn't resolved with the seller by "
                 f"{fmt(esc, now)}, it goes to the platform automatically; you can escalate it yourself before "
                 "that.", esc, escalates_at=esc)
    if d is not None and d.state is DisputeState.ESCALATED:
        return a(False, How.AUTOMATIC, "dispute.escalated",
                 f"Your dispute was escalated to the platform on {fmt(d.escalated_at, now)}; the platform reviews "
                 "the evidence from both sides and decides.", None, escalated_at=d.escalated_at)
    if d is not None:
        return a(False, How.NOT_AVAILABLE, "dispute.ended",
                 f"The dispute on this order has ended ({d.state.value}); a second one can't be opened.")
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "dispute.order_closed",
                 f"This order is closed, so there is nothing to dispute. {_closed_story(o, now, cfg)}")
    if s in (Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT):
        deadline = ship_by(o, cfg) if s is Status.AWAITING_SHIPMENT else None
        return a(False, How.NOT_AVAILABLE, "dispute.not_shipped",
                 "A dispute can be opened only once the order has shipped. Before that, cancel the order instead.",
                 deadline, ship_by=deadline)
    until = dispute_until(o, cfg)
    ends = delivery_window_ends(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "dispute.confirmed_no_refund",
                 f"You confirmed receipt on {fmt(o.confirmed_at, now)}, which released the payment to the seller; "
                 "under this marketplace's rule (article 000) a dispute can't get the money back any more.")
    if s is Status.AWAITING_DELIVERY:
        return a(True, How.DISPUTE, "dispute.in_transit",
                 f"The order shipped on {fmt(o.shipped_at, now)}, so you can open a dispute now if tracking doesn't "
                 "work or hasn't moved for a long time, shows delivery to another place, or the item isn't as "
                 f"described. If nothing has arrived when the delivery window ends on {fmt(ends, now)}, open one "
                 f"then: buyer protection lasts until {fmt(until, now)}.", ends,
                 delivery_window_ends=ends, dispute_until=until)
    if now >= until:
        return a(False, How.NOT_AVAILABLE, "dispute.window_closed",
                 f"Buyer protection for this order ended on {fmt(until, now)}, so a dispute can't be opened any more.",
                 None, dispute_until=until)
    if o.completed_reason is CompletedReason.DELIVERY_WINDOW_ENDED and received_at(o) is None:
        return a(True, How.DISPUTE, "dispute.window_passed_not_delivered",
                 f"The delivery window ended on {fmt(o.completed_at, now)} and nothing was delivered: open a dispute "
                 f"now (reason: not received) to get your money back. You can until {fmt(until, now)}.",
                 until, dispute_until=until)
    return a(True, How.DISPUTE, "dispute.after_completion",
             f"The order was completed on {fmt(completion_at(o, cfg), now)}. If the item isn't as described, is "
             f"damaged or fake, you can open a dispute until {fmt(until, now)} and ask for a full or partial "
             "refund.", until, dispute_until=until)


def return_answer(o: Order, now: datetime, cfg: PolicyConfig = DEFAULT) -> Answer:
    a = lambda allowed, how, rule, text, deadline=None, **dates: Answer(  # noqa: E731
        "return", allowed, how, rule, text, deadline, {k: v for k, v in dates.items() if v is not None}
    )
    s = o.status
    if s is Status.CLOSED:
        return a(False, How.NOT_AVAILABLE, "return.order_closed",
                 f"This order is closed, so there is nothing to return. {_closed_story(o, now, cfg)}")
    if s in (Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT):
        return a(False, How.NOT_AVAILABLE, "return.not_shipped",
                 "Nothing has shipped yet, so there is nothing to return; cancel the order instead.")
    if dispute_active(o):
        return a(False, How.DISPUTE, "return.dispute_open",
                 "A dispute is open on this order; a return is arranged inside the dispute if the seller or the "
                 "platform asks for it.")
    if o.dispute is not None:
        return a(False, How.NOT_AVAILABLE, "return.dispute_ended",
                 f"The dispute on this order has ended ({o.dispute.state.value}); a return goes through a dispute, "
                 "and a second one can't be opened.")
    got = received_at(o)
    if got is None:
        ends = delivery_window_ends(o, cfg)
        if s is Status.AWAITING_DELIVERY:
            return a(False, How.WAIT, "return.not_delivered",
                     "The parcel hasn't been delivered yet. Once it arrives you have "
                     f"{cfg.return_window_days} days to return it in its original condition. If it doesn't arrive "
                     f"by {fmt(ends, now)}, open a dispute instead.", ends, delivery_window_ends=ends)
        until = dispute_until(o, cfg)
        if now >= until:
            return a(False, How.NOT_AVAILABLE, "return.protection_ended",
                     f"Nothing was delivered, and buyer protection for this order ended on {fmt(until, now)}, so "
                     "neither a return nor a dispute is possible any more.", None, dispute_until=until)
        return a(False, How.DISPUTE, "return.never_delivered",
                 "Nothing was delivered, so there is nothing to return: open a dispute for a parcel that never "
                 f"arrived (until {fmt(until, now)}).", until, dispute_until=until)
    until = return_until(o, cfg)
    if o.confirmed_at is not None and cfg.mistaken_confirmation == "no_refund":
        return a(False, How.NOT_AVAILABLE, "return.confirmed_no_refund",
                 f"You confirmed receipt on {fmt(o.confirmed_at, now)}, which released the payment to the seller; "
                 "under this marketplace's rule (article 000) a return for a refund is no longer possible.")
    if now >= until:
        return a(False, How.NOT_AVAILABLE, "return.window_closed",
                 f"The {cfg.return_window_days}-day return window ended on {fmt(until, now)}.", None,
                 return_until=until)
    if o.confirmed_at is not None:
        return a(True, How.DISPUTE, "return.after_confirmation",
                 f"You confirmed receipt on {fmt(o.confirmed_at, now)}, which released the payment to the seller. "
                 "Sources differ here: one article says no refund is possible after confirming, another gives a "
                 f"{cfg.return_window_days}-day return window, which is the rule applied here. So you can still "
                 f"request a return until {fmt(until, now)} (Open a Dispute on the order page, item in its "
                 "original condition), but as the seller has been paid, success isn't guaranteed.",
                 until, return_until=until)
    return a(True, How.DISPUTE, "return.within_window",
             f"You received the item on {fmt(got, now)}, so you can return it until {fmt(until, now)}: open a "
             "dispute on the order page, choose full or partial refund, and keep the item in its original "
             "condition.", until, return_until=until)


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
