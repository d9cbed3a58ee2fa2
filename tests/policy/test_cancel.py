"""Can this buyer cancel this order, how, and until when? (`Decision.cancel`)"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Callable

import pytest

from orderdesk.model import (
    Cancellation,
    CancellationState,
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    PaymentMethod,
    Status,
)
from orderdesk.policy import RULES, How, decide
from orderdesk.policy_config import DEFAULT
from policy_builders import (
    said,
    SECOND,
    THE_DEADLINE,
    Probe,
    at_each_deadline,
    check_example,
    check_probe,
    days,
    hours,
    paid as _paid,
    probe_ids,
    shipped as _shipped,
)


# --------------------------------------------------------------------------- one example per rule

CANCEL_EXAMPLES: dict[str, Callable] = {
    "cancel.closed": lambda make, now: _paid(
        make, now, status=Status.CLOSED, closed_at=now - days(1), closed_reason=ClosedReason.CANCELLATION_APPROVED
    ),
    "cancel.dispute_open": lambda make, now: _shipped(
        make, now, dispute=Dispute(opened_at=now - days(2), state=DisputeState.OPEN, reason="tracking_stalled")
    ),
    "cancel.unpaid": lambda make, now: make(placed_at=now - days(2)),
    "cancel.payment_check": lambda make, now: _paid(
        make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2)
    ),
    "cancel.rejected": lambda make, now: _shipped(
        make, now, cancellation=Cancellation(
            requested_at=now - days(6), state=CancellationState.REJECTED, responded_at=now - days(5),
            tracking_number="LP00123456789CN",
        )
    ),
    "cancel.request_pending": lambda make, now: _paid(
        make, now, cancellation=Cancellation(requested_at=now - hours(10), state=CancellationState.PENDING)
    ),
    "cancel.request_seller": lambda make, now: _paid(make, now),
    "cancel.shipped": lambda make, now: _shipped(make, now),
    "cancel.completed": lambda make, now: _shipped(
        make, now, status=Status.COMPLETED, delivered_at=now - days(2), confirmed_at=now - days(1),
        completed_at=now - days(1), completed_reason=CompletedReason.CONFIRMED,
    ),
}


def test_every_cancel_rule_has_an_example():
    assert set(CANCEL_EXAMPLES) == set(RULES["cancel"])


@pytest.mark.parametrize("rule", sorted(CANCEL_EXAMPLES))
def test_each_cancel_example_reaches_its_rule(rule, make_order, now):
    check_example("cancel", rule, CANCEL_EXAMPLES[rule], make_order, now)


# --------------------------------------------------------------------------- every deadline at +/- 1 second

def _unpaid(make, now):
    o = make(placed_at=now - days(3))
    return o, o.placed_at + days(20)


def _processing(make, now):
    o = _paid(make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2))
    return o, o.paid_at + hours(24)


def _pending(make, now):
    o = _paid(make, now, handling_days=10,
              cancellation=Cancellation(requested_at=now - hours(5), state=CancellationState.PENDING))
    return o, o.cancellation.requested_at + hours(72)


def _ship_by_default(make, now):
    o = _paid(make, now, paid_at=now - days(2))
    return o, o.paid_at + hours(24) + days(7)


def _ship_by_own(make, now):
    o = _paid(make, now, paid_at=now - days(2), handling_days=3)
    return o, o.paid_at + hours(24) + days(3)


def _in_transit_default(make, now):
    o = _shipped(make, now, shipped_at=now - days(10))
    return o, o.shipped_at + days(60)


def _in_transit_own(make, now):
    o = _shipped(make, now, shipped_at=now - days(10), delivery_days=25)
    return o, o.shipped_at + days(25)


CANCEL_PROBES = [
    Probe("unpaid order closes 20 days after it was placed", _unpaid, "cancel.unpaid", "cancel.closed", THE_DEADLINE),
    Probe("cancel button appears 24 hours after payment", _processing, "cancel.payment_check",
          "cancel.request_seller", THE_DEADLINE),
    Probe("silent seller has 72 hours", _pending, "cancel.request_pending", "cancel.closed", THE_DEADLINE),
    Probe("ship-by defaults to 7 days", _ship_by_default, "cancel.request_seller", "cancel.closed", THE_DEADLINE),
    Probe("ship-by uses the order's handling days", _ship_by_own, "cancel.request_seller", "cancel.closed",
          THE_DEADLINE),
    Probe("delivery window defaults to 60 days", _in_transit_default, "cancel.shipped", "cancel.completed"),
    Probe("delivery window uses the order's delivery days", _in_transit_own, "cancel.shipped",
          "cancel.completed"),
]


@at_each_deadline
@pytest.mark.parametrize("probe", CANCEL_PROBES, ids=probe_ids)
def test_cancel_answer_switches_exactly_at_each_deadline(probe, offset, make_order, now):
    check_probe("cancel", probe, offset, make_order, now)


# --------------------------------------------------------------------------- unpaid

def test_unpaid_order_can_be_cancelled_at_once_with_no_penalty(make_order, now):
    order = make_order(placed_at=now - days(3))
    decision = decide(order, now)
    answer = decision.cancel
    close = now - days(3) + days(20)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.INSTANT, "cancel.unpaid")
    assert answer.deadline == close
    assert dict(answer.dates) == {"closes_at": close}
    assert "no penalty" in said(decision, "cancel")
    assert "closes by itself on Wed 9 Dec, 12:00 UTC" in said(decision, "cancel")
    assert "nothing to refund" in said(decision, "cancel")


def test_unpaid_order_closes_itself_after_20_days(make_order, now):
    order = make_order(placed_at=now - days(20))
    decision = decide(order, now)
    assert decision.status is Status.CLOSED
    assert decision.order.closed_reason is ClosedReason.UNPAID_TIMEOUT
    assert decision.order.closed_at == now
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "cancel.closed")
    assert dict(answer.dates) == {"closed_at": now}
    assert "closed by itself on Sun 22 Nov, 12:00 UTC because it was never paid" in said(decision, "cancel")


# --------------------------------------------------------------------------- paid, not shipped

def test_no_cancel_button_while_the_payment_is_being_checked(make_order, now):
    order = _paid(make_order, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2))
    decision = decide(order, now)
    answer = decision.cancel
    ready = now + hours(22)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.WAIT, "cancel.payment_check")
    assert answer.deadline == ready
    assert dict(answer.dates) == {"button_appears_at": ready}
    assert "no Cancel button yet" in said(decision, "cancel")
    assert "up to 24 hours" in said(decision, "cancel")
    assert "by Mon 23 Nov, 10:00 UTC" in said(decision, "cancel")
    assert "72 hours to answer" in said(decision, "cancel")


def test_paid_order_can_be_cancelled_only_with_the_sellers_approval(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(2))
    decision = decide(order, now)
    answer = decision.cancel
    ship_by = now - days(2) + hours(24) + days(7)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.SELLER_APPROVAL, "cancel.request_seller")
    assert answer.deadline == ship_by
    assert dict(answer.dates) == {"ship_by": ship_by}
    assert "72 hours to answer" in said(decision, "cancel")
    assert "cancelled automatically" in said(decision, "cancel")
    assert "3-20 days" in said(decision, "cancel")
    assert "back to the card you paid with" in said(decision, "cancel")


def test_order_without_handling_days_must_ship_within_7_days_after_the_payment_check(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(1), handling_days=None)
    assert decide(order, now).cancel.deadline == now + days(7)


def test_orders_own_handling_days_set_the_ship_by_date(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(1), handling_days=12)
    answer = decide(order, now).cancel
    assert answer.deadline == now + days(12)
    assert dict(answer.dates) == {"ship_by": now + days(12)}


@pytest.mark.parametrize(
    "method, phrases",
    [
        (PaymentMethod.ALIPAY_CARD, ["to your Alipay balance, not to the card", "not withdrawn to the card"]),
        (PaymentMethod.CARD, ["back to the card you paid with"]),
        (PaymentMethod.PAYPAL, ["back to your PayPal account"]),
        (PaymentMethod.WALLET, ["back to the e-wallet you paid with"]),
        (None, ["back to the payment method you used"]),
    ],
)
def test_cancellation_request_says_where_the_refund_goes(method, phrases, make_order, now):
    decision = decide(_paid(make_order, now, payment_method=method), now)
    answer = decision.cancel
    assert answer.rule == "cancel.request_seller"
    for phrase in phrases:
        assert phrase in said(decision, "cancel")


def test_pending_request_waits_for_the_seller_until_72_hours_after_the_request(make_order, now):
    requested = now - hours(10)
    order = _paid(make_order, now, paid_at=now - days(2),
                  cancellation=Cancellation(requested_at=requested, state=CancellationState.PENDING))
    decision = decide(order, now)
    answer = decision.cancel
    answer_by = requested + hours(72)
    ship_by = now - days(2) + hours(24) + days(7)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.AUTOMATIC, "cancel.request_pending")
    assert answer.deadline == answer_by
    assert dict(answer.dates) == {"seller_answer_by": answer_by, "ship_by": ship_by}
    assert "Cancel button is gone" in said(decision, "cancel")
    assert "until Wed 25 Nov, 02:00 UTC" in said(decision, "cancel")
    assert "cancelled automatically" in said(decision, "cancel")
    assert "3-20 days" in said(decision, "cancel")


def test_pending_request_deadline_is_the_ship_by_date_when_that_comes_first(make_order, now):
    requested = now - hours(1)
    order = _paid(make_order, now, paid_at=now - days(1), handling_days=1,
                  cancellation=Cancellation(requested_at=requested, state=CancellationState.PENDING))
    answer = decide(order, now).cancel
    assert answer.deadline == now + days(1)
    assert dict(answer.dates) == {"seller_answer_by": requested + hours(72), "ship_by": now + days(1)}


def test_seller_silence_for_72_hours_cancels_the_order_automatically(make_order, now):
    requested = now - hours(72)
    order = _paid(make_order, now, paid_at=now - days(4), handling_days=10,
                  cancellation=Cancellation(requested_at=requested, state=CancellationState.PENDING))
    decision = decide(order, now)
    assert decision.order.closed_reason is ClosedReason.SELLER_NO_RESPONSE
    assert decision.order.cancellation.state is CancellationState.AUTO_APPROVED
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "cancel.closed")
    assert "cancelled automatically on Sun 22 Nov, 12:00 UTC" in said(decision, "cancel")
    assert "didn't answer your cancellation request within 72 hours" in said(decision, "cancel")


def test_order_the_seller_never_ships_is_closed_at_the_ship_by_date(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(7) - hours(24))
    decision = decide(order, now)
    assert decision.order.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME
    assert decision.order.closed_at == now
    assert decision.cancel.rule == "cancel.closed"
    assert "because the seller didn't ship it in time" in said(decision, "cancel")


# --------------------------------------------------------------------------- shipped

def test_cannot_cancel_after_shipment(make_order, now):
    shipped = now - days(5)
    order = _shipped(make_order, now, shipped_at=shipped)
    decision = decide(order, now)
    answer = decision.cancel
    ends = shipped + days(60)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.CONTACT_SELLER, "cancel.shipped")
    assert answer.deadline is None
    assert dict(answer.dates) == {"shipped_at": shipped, "delivery_window_ends": ends}
    assert "Cancel button is gone" in said(decision, "cancel")
    assert "it's rare" in said(decision, "cancel")
    assert "return it within 15 days of delivery" in said(decision, "cancel")
    assert "hasn't arrived by Sat 16 Jan 2027, 12:00 UTC" in said(decision, "cancel")


def test_rejected_cancellation_mentions_the_tracking_number(make_order, now):
    rejected = now - days(5)
    order = _shipped(make_order, now, shipped_at=now - days(5), tracking_number=None, cancellation=Cancellation(
        requested_at=now - days(6), state=CancellationState.REJECTED, responded_at=rejected,
        tracking_number="RB987654321CN",
    ))
    decision = decide(order, now)
    answer = decision.cancel
    ends = now - days(5) + days(60)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.DISPUTE, "cancel.rejected")
    assert answer.deadline is None
    assert dict(answer.dates) == {"rejected_at": rejected, "delivery_window_ends": ends}
    assert "rejected your cancellation on Tue 17 Nov, 12:00 UTC" in said(decision, "cancel")
    assert "gave tracking number RB987654321CN" in said(decision, "cancel")
    assert "can't be filed again" in said(decision, "cancel")
    assert "open a dispute" in said(decision, "cancel")
    assert "within 15 days of delivery" in said(decision, "cancel")
    assert "If nothing has arrived by Sat 16 Jan 2027, 12:00 UTC, open a dispute then." in said(decision, "cancel")


def test_rejected_cancellation_falls_back_to_the_orders_tracking_number(make_order, now):
    order = _shipped(make_order, now, tracking_number="LP00123456789CN", cancellation=Cancellation(
        requested_at=now - days(6), state=CancellationState.REJECTED, responded_at=now - days(5),
    ))
    decision = decide(order, now)
    answer = decision.cancel
    assert answer.rule == "cancel.rejected"
    assert "gave tracking number LP00123456789CN" in said(decision, "cancel")


def test_rejection_before_the_parcel_is_scanned_has_no_delivery_window_yet(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(2), cancellation=Cancellation(
        requested_at=now - days(1), state=CancellationState.REJECTED, responded_at=now - hours(3),
        tracking_number="RB987654321CN",
    ))
    decision = decide(order, now)
    answer = decision.cancel
    assert answer.rule == "cancel.rejected"
    assert dict(answer.dates) == {"rejected_at": now - hours(3)}
    assert "gave tracking number RB987654321CN" in said(decision, "cancel")
    assert "If nothing has arrived by" not in said(decision, "cancel")


def test_no_cancel_button_while_a_dispute_is_open(make_order, now):
    opened = now - days(2)
    order = _shipped(make_order, now, dispute=Dispute(opened_at=opened, state=DisputeState.OPEN,
                                                     reason="tracking_stalled"))
    decision = decide(order, now)
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.DISPUTE, "cancel.dispute_open")
    assert answer.deadline is None
    assert dict(answer.dates) == {"escalates_at": opened + days(16)}
    assert "the dispute now decides the refund" in said(decision, "cancel")


def test_escalated_dispute_also_removes_the_cancel_button(make_order, now):
    order = _shipped(make_order, now, dispute=Dispute(
        opened_at=now - days(20), state=DisputeState.ESCALATED, reason="not_received", escalated_at=now - days(4),
    ))
    assert decide(order, now).cancel.rule == "cancel.dispute_open"


# --------------------------------------------------------------------------- completed and closed

def _confirmed(make, now, confirmed):
    return _shipped(make, now, status=Status.COMPLETED, shipped_at=confirmed - days(10), delivered_at=confirmed,
                    confirmed_at=confirmed, completed_at=confirmed, completed_reason=CompletedReason.CONFIRMED)


def test_completed_order_cannot_be_cancelled_but_can_be_disputed_for_15_days(make_order, now):
    confirmed = now - days(3)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.DISPUTE, "cancel.completed")
    assert answer.deadline is None
    assert dict(answer.dates) == {"dispute_until": confirmed + days(15)}
    assert "completed, so it can't be cancelled. The order completed on Thu 19 Nov, 12:00 UTC" in said(decision, "cancel")
    assert "open a dispute until Fri 4 Dec, 12:00 UTC" in said(decision, "cancel")


def test_completed_order_past_buyer_protection_offers_nothing(make_order, now):
    confirmed = now - days(15)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "cancel.completed")
    assert dict(answer.dates) == {"dispute_until": now}
    assert "you can open a dispute" not in said(decision, "cancel")
    assert "Buyer protection for this order ended on Sun 22 Nov, 12:00 UTC" in said(decision, "cancel")


@pytest.mark.parametrize(
    "offset, how", [(-SECOND, How.DISPUTE), (timedelta(0), How.NOT_AVAILABLE), (SECOND, How.NOT_AVAILABLE)],
    ids=["minus_1s", "exactly", "plus_1s"],
)
def test_completed_order_stops_pointing_to_a_dispute_exactly_when_buyer_protection_ends(offset, how, make_order,
                                                                                       now):
    confirmed = now - days(3)
    until = confirmed + days(15)
    decision = decide(_confirmed(make_order, now, confirmed), until + offset)
    answer = decision.cancel
    assert answer.rule == "cancel.completed"
    assert answer.how is how
    assert ("open a dispute" in said(decision, "cancel")) is (how is How.DISPUTE)


@pytest.mark.parametrize(
    "reason, story",
    [
        (ClosedReason.UNPAID_TIMEOUT, "closed by itself on Fri 20 Nov, 12:00 UTC because it was never paid"),
        (ClosedReason.BUYER_CANCELLED, "You cancelled it on Fri 20 Nov, 12:00 UTC, before paying"),
        (ClosedReason.CANCELLATION_APPROVED, "The seller approved your cancellation on Fri 20 Nov, 12:00 UTC"),
        (ClosedReason.SELLER_NO_RESPONSE, "didn't answer your cancellation request within 72 hours"),
        (ClosedReason.NOT_SHIPPED_IN_TIME, "because the seller didn't ship it in time"),
        (ClosedReason.SELLER_CANCELLED, "The seller cancelled it on Fri 20 Nov, 12:00 UTC"),
        (ClosedReason.DISPUTE_REFUNDED, "when your dispute ended with a refund"),
    ],
)
def test_closed_order_has_nothing_to_cancel_and_says_why_it_closed(reason, story, make_order, now):
    order = _paid(make_order, now, status=Status.CLOSED, closed_at=now - days(2), closed_reason=reason)
    decision = decide(order, now)
    answer = decision.cancel
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "cancel.closed")
    assert answer.deadline is None
    assert dict(answer.dates) == {"closed_at": now - days(2)}
    assert "already closed, so there's nothing to cancel" in said(decision, "cancel")
    assert story in said(decision, "cancel")


def test_completed_order_does_not_promise_a_dispute_when_confirming_means_no_refund(make_order, now):
    """Under mistaken_confirmation="no_refund" (article 000) the dispute answer says a dispute can't get
    the money back after confirming receipt; the cancel answer must not tell the buyer the opposite."""
    cfg = replace(DEFAULT, mistaken_confirmation="no_refund")
    decision = decide(_confirmed(make_order, now, now - days(3)), now, cfg)
    assert decision.dispute.rule == "dispute.confirmed_no_refund"
    assert decision.cancel.rule == "cancel.completed"
    assert decision.cancel.how is How.NOT_AVAILABLE
    assert "you can open a dispute" not in said(decision, "cancel")
