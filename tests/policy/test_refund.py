"""Can this buyer get their money back, how, and by when? (`Decision.refund`)"""
from __future__ import annotations

from decimal import Decimal

import pytest

from orderdesk.model import (
    Cancellation,
    CancellationState,
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    PaymentMethod,
    RefundKind,
    Status,
)
from orderdesk.policy import RULES, How, decide
from policy_builders import (
    said,
    NO_REFUND,
    Example,
    Probe,
    at_each_deadline,
    check_example,
    check_probe,
    confirmed as _confirmed,
    days,
    hours,
    paid as _paid,
    probe_ids,
    shipped as _shipped,
)


def _closed(make, now, reason, closed_at, **kw):
    return _paid(make, now, status=Status.CLOSED, closed_reason=reason, closed_at=closed_at, **kw)


def _window_ended(make, now, shipped, **kw):
    """Completed because the delivery window (60 days) ended; nothing was delivered."""
    return _shipped(make, now, status=Status.COMPLETED, shipped_at=shipped, completed_at=shipped + days(60),
                    completed_reason=CompletedReason.DELIVERY_WINDOW_ENDED, **kw)


def _open_dispute(now, **kw):
    kw.setdefault("opened_at", now - days(2))
    kw.setdefault("reason", "not_received")
    return Dispute(state=DisputeState.OPEN, **kw)


# --------------------------------------------------------------------------- one example per rule

REFUND_EXAMPLES: dict[str, Example] = {
    "refund.nothing_paid": Example(lambda make, now: make(placed_at=now - days(1))),
    "refund.in_progress": Example(lambda make, now: _closed(
        make, now, ClosedReason.CANCELLATION_APPROVED, now - days(2))),
    "refund.overdue": Example(lambda make, now: _closed(
        make, now, ClosedReason.CANCELLATION_APPROVED, now - days(25), placed_at=now - days(30),
        paid_at=now - days(30))),
    "refund.payment_check": Example(lambda make, now: _paid(
        make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(3))),
    "refund.dispute_open": Example(lambda make, now: _shipped(make, now, dispute=_open_dispute(now))),
    "refund.dispute_escalated": Example(lambda make, now: _shipped(make, now, shipped_at=now - days(30), dispute=Dispute(
        opened_at=now - days(20), state=DisputeState.ESCALATED, reason="not_received", escalated_at=now - days(4)))),
    "refund.awaiting_seller": Example(lambda make, now: _paid(
        make, now, cancellation=Cancellation(requested_at=now - hours(6), state=CancellationState.PENDING))),
    "refund.cancel_first": Example(lambda make, now: _paid(make, now)),
    "refund.after_rejection": Example(lambda make, now: _paid(make, now, cancellation=Cancellation(
        requested_at=now - hours(30), state=CancellationState.REJECTED, responded_at=now - hours(20),
        tracking_number="RB123456789CN"))),
    "refund.dispute_closed": Example(lambda make, now: _confirmed(make, now, now - days(3), dispute=Dispute(
        opened_at=now - days(2), state=DisputeState.RESOLVED, reason="damaged", resolved_at=now - days(1)))),
    "refund.confirmed_no_refund": Example(lambda make, now: _confirmed(make, now, now - days(3)), NO_REFUND),
    "refund.via_dispute": Example(lambda make, now: _confirmed(make, now, now - days(3))),
    "refund.window_closed": Example(lambda make, now: _confirmed(make, now, now - days(20))),
}


def test_every_refund_rule_has_an_example():
    assert set(REFUND_EXAMPLES) == set(RULES["refund"])


@pytest.mark.parametrize("rule", sorted(REFUND_EXAMPLES))
def test_each_refund_example_reaches_its_rule(rule, make_order, now):
    check_example("refund", rule, REFUND_EXAMPLES[rule], make_order, now)


# --------------------------------------------------------------------------- every deadline at +/- 1 second

def _processing(make, now):
    o = _paid(make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2))
    return o, o.paid_at + hours(24)


def _pending(make, now):
    o = _paid(make, now, handling_days=10,
              cancellation=Cancellation(requested_at=now - hours(5), state=CancellationState.PENDING))
    return o, o.cancellation.requested_at + hours(72)


def _not_shipped(make, now):
    o = _paid(make, now, paid_at=now - days(2))
    return o, o.paid_at + hours(24) + days(7)


def _approved(make, now):
    o = _closed(make, now, ClosedReason.CANCELLATION_APPROVED, now - days(3))
    return o, o.closed_at + days(20)


def _closed_not_shipped(make, now):
    o = _closed(make, now, ClosedReason.NOT_SHIPPED_IN_TIME, now - days(1))
    return o, o.closed_at + days(5)


def _disputed(make, now):
    o = _shipped(make, now, dispute=_open_dispute(now, opened_at=now - days(1)))
    return o, o.dispute.opened_at + days(16)


def _completed(make, now):
    o = _confirmed(make, now, now - days(3))
    return o, o.confirmed_at + days(15)


def _never_arrived(make, now):
    o = _shipped(make, now, shipped_at=now - days(50))
    return o, o.shipped_at + days(60) + days(15)


REFUND_PROBES = [
    Probe("cancel button appears 24 hours after payment", _processing, "refund.payment_check",
          "refund.cancel_first", lambda d: d),
    Probe("silent seller has 72 hours", _pending, "refund.awaiting_seller", "refund.in_progress", lambda d: d),
    Probe("unshipped order is closed at ship-by", _not_shipped, "refund.cancel_first", "refund.in_progress",
          lambda d: d),
    Probe("refund is expected 20 days after closing", _approved, "refund.in_progress", "refund.overdue", lambda d: d),
    Probe("refund for an unshipped order is expected within 5 days", _closed_not_shipped, "refund.in_progress",
          "refund.overdue", lambda d: d),
    Probe("dispute escalates after 16 days", _disputed, "refund.dispute_open", "refund.dispute_escalated",
          lambda d: d),
    Probe("buyer protection ends 15 days after completion", _completed, "refund.via_dispute",
          "refund.window_closed", lambda d: d),
    Probe("buyer protection ends 15 days after the delivery window", _never_arrived, "refund.via_dispute",
          "refund.window_closed", lambda d: d),
]


@at_each_deadline
@pytest.mark.parametrize("probe", REFUND_PROBES, ids=probe_ids)
def test_refund_answer_switches_exactly_at_each_deadline(probe, offset, make_order, now):
    check_probe("refund", probe, offset, make_order, now)


# --------------------------------------------------------------------------- not paid / not yet cancellable

def test_unpaid_order_has_nothing_to_refund(make_order, now):
    order = make_order(placed_at=now - days(3))
    decision = decide(order, now)
    answer = decision.refund
    close = now + days(17)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "refund.nothing_paid")
    assert answer.deadline == close
    assert dict(answer.dates) == {"closes_at": close}
    assert "no money was taken" in said(decision, "refund")


def test_unpaid_order_that_closed_itself_still_has_nothing_to_refund(make_order, now):
    order = make_order(placed_at=now - days(25))
    decision = decide(order, now)
    assert decision.order.closed_reason is ClosedReason.UNPAID_TIMEOUT
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "refund.nothing_paid")
    assert answer.deadline is None
    assert dict(answer.dates) == {}
    assert "closes by itself" not in said(decision, "refund")


def test_refund_waits_for_the_payment_check_before_a_cancellation(make_order, now):
    order = _paid(make_order, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(3))
    decision = decide(order, now)
    answer = decision.refund
    ready = now + hours(21)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.WAIT, "refund.payment_check")
    assert answer.deadline == ready
    assert dict(answer.dates) == {"button_appears_at": ready}
    assert "payment check ends, by Mon 23 Nov, 09:00 UTC" in said(decision, "refund")
    assert "3-20 days" in said(decision, "refund")


def test_unshipped_order_is_refunded_through_a_cancellation_request(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(2))
    decision = decide(order, now)
    answer = decision.refund
    ship_by = now + days(6)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.SELLER_APPROVAL, "refund.cancel_first")
    assert answer.deadline == ship_by
    assert dict(answer.dates) == {"ship_by": ship_by}
    assert "has 72 hours to answer (no answer means approved)" in said(decision, "refund")
    assert "3-20 days" in said(decision, "refund")
    assert "doesn't ship by Sat 28 Nov, 12:00 UTC" in said(decision, "refund")
    assert "usually within 2-5 days" in said(decision, "refund")


def test_pending_cancellation_is_refunded_automatically(make_order, now):
    requested = now - hours(6)
    order = _paid(make_order, now, paid_at=now - days(2),
                  cancellation=Cancellation(requested_at=requested, state=CancellationState.PENDING))
    decision = decide(order, now)
    answer = decision.refund
    answer_by, ship_by = requested + hours(72), now + days(6)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.AUTOMATIC, "refund.awaiting_seller")
    assert answer.deadline == answer_by
    assert dict(answer.dates) == {"seller_answer_by": answer_by, "ship_by": ship_by}
    assert "until Wed 25 Nov, 06:00 UTC to answer" in said(decision, "refund")
    assert "approve or don't answer" in said(decision, "refund")


def test_pending_cancellation_deadline_is_the_ship_by_date_when_that_comes_first(make_order, now):
    order = _paid(make_order, now, paid_at=now - days(1), handling_days=1,
                  cancellation=Cancellation(requested_at=now - hours(1), state=CancellationState.PENDING))
    assert decide(order, now).refund.deadline == now + days(1)


# --------------------------------------------------------------------------- closed: the refund is on its way

def test_approved_cancellation_is_refunded_within_3_to_20_days(make_order, now):
    closed = now - days(2)
    order = _closed(make_order, now, ClosedReason.CANCELLATION_APPROVED, closed)
    decision = decide(order, now)
    answer = decision.refund
    expected = closed + days(20)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.AUTOMATIC, "refund.in_progress")
    assert answer.deadline == expected
    assert dict(answer.dates) == {"closed_at": closed, "refund_expected_by": expected}
    assert dict(answer.facts) == {
        "refund_min_days": 3, "refund_max_days": 20, "destination": "card",
    }
    assert "Your refund of 12.50 USD is on its way back to the card you paid with" in said(decision, "refund")
    assert "It takes 3-20 days, so expect it by Thu 10 Dec, 12:00 UTC" in said(decision, "refund")
    assert "There's no marketplace balance" in said(decision, "refund")


def test_alipay_card_refund_goes_to_the_alipay_balance_not_the_card(make_order, now):
    order = _closed(make_order, now, ClosedReason.CANCELLATION_APPROVED, now - days(2),
                    payment_method=PaymentMethod.ALIPAY_CARD)
    decision = decide(order, now)
    answer = decision.refund
    assert answer.facts["destination"] == "alipay_balance"
    assert "to your Alipay balance, not to the card" in said(decision, "refund")
    assert "can only be spent on the marketplace, not withdrawn to the card" in said(decision, "refund")


@pytest.mark.parametrize(
    "method, code",
    [(PaymentMethod.CARD, "card"), (PaymentMethod.ALIPAY_CARD, "alipay_balance"), (PaymentMethod.PAYPAL, "paypal"),
     (PaymentMethod.WALLET, "wallet"), (None, "payment_method")],
)
def test_refund_goes_back_where_the_money_came_from(method, code, make_order, now):
    order = _paid(make_order, now, payment_method=method)
    assert decide(order, now).refund.facts["destination"] == code


def test_order_the_seller_never_shipped_is_refunded_within_2_to_5_days(make_order, now):
    paid = now - days(8)
    order = _paid(make_order, now, paid_at=paid)
    decision = decide(order, now)
    closed = paid + hours(24) + days(7)
    assert decision.order.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME
    answer = decision.refund
    assert answer.rule == "refund.in_progress"
    assert answer.deadline == closed + days(5)
    assert dict(answer.dates) == {"closed_at": closed, "refund_expected_by": closed + days(5)}
    assert (answer.facts["refund_min_days"], answer.facts["refund_max_days"]) == (2, 5)
    assert "It takes 2-5 days" in said(decision, "refund")
    assert "because the seller didn't ship it in time" in said(decision, "refund")


def test_order_cancelled_by_the_sellers_silence_is_refunded_within_3_to_20_days(make_order, now):
    requested = now - hours(80)
    order = _paid(make_order, now, paid_at=now - days(4), handling_days=10,
                  cancellation=Cancellation(requested_at=requested, state=CancellationState.PENDING))
    decision = decide(order, now)
    answer = decision.refund
    closed = requested + hours(72)
    assert answer.rule == "refund.in_progress"
    assert answer.deadline == closed + days(20)
    assert (answer.facts["refund_min_days"], answer.facts["refund_max_days"]) == (3, 20)
    assert "didn't answer your cancellation request" in said(decision, "refund")


def test_seller_cancelled_order_suggests_asking_the_seller_why(make_order, now):
    order = _closed(make_order, now, ClosedReason.SELLER_CANCELLED, now - days(1))
    decision = decide(order, now)
    answer = decision.refund
    assert answer.rule == "refund.in_progress"
    assert "The seller cancelled it on Sat 21 Nov, 12:00 UTC." in said(decision, "refund")
    assert "to ask why they cancelled" in said(decision, "refund")


def test_refund_is_overdue_once_the_20_days_have_passed(make_order, now):
    closed = now - days(25)
    order = _closed(make_order, now, ClosedReason.CANCELLATION_APPROVED, closed,
                    placed_at=now - days(30), paid_at=now - days(30))
    decision = decide(order, now)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (True, How.CONTACT_SUPPORT, "refund.overdue")
    assert answer.deadline is None
    assert dict(answer.dates) == {"refund_expected_by": closed + days(20)}
    assert "should have arrived back to the card you paid with by Tue 17 Nov, 12:00 UTC" in said(decision, "refund")
    assert "up to 20 working days" in said(decision, "refund")
    assert "say \"talk to a person\"" in said(decision, "refund")


# --------------------------------------------------------------------------- disputes

def test_open_dispute_decides_the_refund(make_order, now):
    opened = now - days(2)
    order = _shipped(make_order, now, dispute=_open_dispute(now, opened_at=opened, refund=RefundKind.PARTIAL,
                                                           amount=Decimal("5.00")))
    decision = decide(order, now)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (True, How.ESCALATE, "refund.dispute_open")
    assert answer.deadline == opened + days(16)
    assert dict(answer.dates) == {"escalates_at": opened + days(16)}
    assert "Your dispute from Fri 20 Nov, 12:00 UTC (partial refund)" in said(decision, "refund")
    assert "settle it by Sun 6 Dec, 12:00 UTC" in said(decision, "refund")
    assert "escalate it yourself" in said(decision, "refund")


def test_escalated_dispute_leaves_the_refund_to_the_platform(make_order, now):
    escalated = now - days(4)
    order = _shipped(make_order, now, shipped_at=now - days(30), dispute=Dispute(
        opened_at=now - days(20), state=DisputeState.ESCALATED, reason="not_received", escalated_at=escalated))
    decision = decide(order, now)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (True, How.AUTOMATIC, "refund.dispute_escalated")
    assert answer.deadline is None
    assert dict(answer.dates) == {"escalated_at": escalated}
    assert "the platform now decides" in said(decision, "refund")


def test_shipped_order_is_refunded_through_a_dispute(make_order, now):
    shipped = now - days(5)
    order = _shipped(make_order, now, shipped_at=shipped)
    decision = decide(order, now)
    answer = decision.refund
    ends = shipped + days(60)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "refund.via_dispute")
    assert answer.deadline == ends
    assert dict(answer.dates) == {"delivery_window_ends": ends, "dispute_until": ends + days(15)}
    assert "A refund for this order goes through a dispute" in said(decision, "refund")
    assert "You can open it until Sun 31 Jan 2027, 12:00 UTC" in said(decision, "refund")


def test_completed_order_is_refunded_through_a_dispute_for_15_days(make_order, now):
    confirmed = now - days(3)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.refund
    until = confirmed + days(15)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "refund.via_dispute")
    assert answer.deadline == until
    assert dict(answer.dates) == {"dispute_until": until}
    assert "goes back to the card you paid with" in said(decision, "refund")
    assert "until Fri 4 Dec, 12:00 UTC" in said(decision, "refund")


def test_no_refund_once_buyer_protection_has_ended(make_order, now):
    confirmed = now - days(20)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "refund.window_closed")
    assert answer.deadline is None
    assert dict(answer.dates) == {"dispute_until": confirmed + days(15)}
    assert "Buyer protection for this order ended on Tue 17 Nov, 12:00 UTC" in said(decision, "refund")


@pytest.mark.parametrize("state", [DisputeState.RESOLVED, DisputeState.WITHDRAWN])
def test_completed_order_whose_dispute_ended_cannot_get_a_second_one(state, make_order, now):
    order = _confirmed(make_order, now, now - days(3), dispute=Dispute(
        opened_at=now - days(2), state=state, reason="damaged", resolved_at=now - days(1)))
    decision = decide(order, now)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "refund.dispute_closed")
    assert f"ended ({state.value})" in said(decision, "refund")
    assert "a second one can't be opened" in said(decision, "refund")


# --------------------------------------------------------------------------- mistaken confirmation

def test_no_refund_after_confirming_receipt_when_configured_so(make_order, now):
    decision = decide(_confirmed(make_order, now, now - days(3)), now, NO_REFUND)
    answer = decision.refund
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "refund.confirmed_no_refund")
    assert answer.deadline is None
    assert dict(answer.dates) == {}
    assert "You confirmed receipt on Thu 19 Nov, 12:00 UTC" in said(decision, "refund")
    assert "released the payment to the seller" in said(decision, "refund")
    assert "under this marketplace's rules a refund is no longer possible" in said(decision, "refund")


def test_no_refund_setting_leaves_orders_completed_without_confirmation_alone(make_order, now):
    order = _window_ended(make_order, now, now - days(65))
    answer = decide(order, now, NO_REFUND).refund
    assert answer.rule == "refund.via_dispute"
    assert answer.allowed is True


# --------------------------------------------------------------------------- consistency with the other answers

def test_refund_does_not_suggest_a_new_cancellation_request_after_the_seller_rejected_one(make_order, now):
    """The cancel answer says "A rejected request can't be filed again" (and article 003: after the seller
    says it has shipped, wait for the parcel or open a dispute), so the refund answer must not send the
    buyer back to a cancellation request for the same order."""
    order = _paid(make_order, now, paid_at=now - days(2), cancellation=Cancellation(
        requested_at=now - days(1), state=CancellationState.REJECTED, responded_at=now - hours(3),
        tracking_number="RB987654321CN"))
    decision = decide(order, now)
    assert decision.cancel.rule == "cancel.rejected"
    assert "can't be filed again" in said(decision, "cancel")
    assert decision.refund.how is not How.SELLER_APPROVAL
    assert "cancellation request" not in said(decision, "refund")


def test_refund_does_not_offer_a_dispute_after_the_orders_only_dispute_was_withdrawn(make_order, now):
    """A dispute opened in transit and then withdrawn: the dispute answer says a second one can't be
    opened (dispute.ended), so the refund answer must not tell the buyer to open one."""
    order = _shipped(make_order, now, shipped_at=now - days(20), dispute=Dispute(
        opened_at=now - days(6), state=DisputeState.WITHDRAWN, reason="tracking_stalled",
        resolved_at=now - days(4)))
    decision = decide(order, now)
    assert decision.dispute.rule == "dispute.ended"
    assert not (decision.refund.allowed and decision.refund.how is How.DISPUTE), decision.refund.rule
