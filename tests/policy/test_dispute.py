"""Can this buyer open (or escalate) a dispute, and until when? (`Decision.dispute`)"""
from __future__ import annotations


import pytest

from orderdesk.model import (
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    Status,
)
from orderdesk.policy import RULES, How, decide
from policy_builders import (
    said,
    NO_REFUND,
    SECOND,
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


def _window_ended(make, now, shipped, **kw):
    """Completed because the 60-day delivery window ended."""
    return _shipped(make, now, status=Status.COMPLETED, shipped_at=shipped, completed_at=shipped + days(60),
                    completed_reason=CompletedReason.DELIVERY_WINDOW_ENDED, **kw)


# --------------------------------------------------------------------------- one example per rule

DISPUTE_EXAMPLES: dict[str, Example] = {
    "dispute.open": Example(lambda make, now: _shipped(make, now, dispute=Dispute(
        opened_at=now - days(2), state=DisputeState.OPEN, reason="tracking_stalled"))),
    "dispute.escalated": Example(lambda make, now: _shipped(make, now, shipped_at=now - days(30), dispute=Dispute(
        opened_at=now - days(20), state=DisputeState.ESCALATED, reason="not_received", escalated_at=now - days(4)))),
    "dispute.ended": Example(lambda make, now: _confirmed(make, now, now - days(3), dispute=Dispute(
        opened_at=now - days(2), state=DisputeState.RESOLVED, reason="damaged", resolved_at=now - days(1)))),
    "dispute.order_closed": Example(lambda make, now: _paid(
        make, now, status=Status.CLOSED, closed_at=now - days(1), closed_reason=ClosedReason.CANCELLATION_APPROVED)),
    "dispute.not_shipped": Example(lambda make, now: _paid(make, now)),
    "dispute.confirmed_no_refund": Example(lambda make, now: _confirmed(make, now, now - days(3)), NO_REFUND),
    "dispute.in_transit": Example(lambda make, now: _shipped(make, now)),
    "dispute.window_closed": Example(lambda make, now: _confirmed(make, now, now - days(16))),
    "dispute.window_passed_not_delivered": Example(lambda make, now: _window_ended(make, now, now - days(62))),
    "dispute.after_completion": Example(lambda make, now: _confirmed(make, now, now - days(3))),
}


def test_every_dispute_rule_has_an_example():
    assert set(DISPUTE_EXAMPLES) == set(RULES["dispute"])


@pytest.mark.parametrize("rule", sorted(DISPUTE_EXAMPLES))
def test_each_dispute_example_reaches_its_rule(rule, make_order, now):
    check_example("dispute", rule, DISPUTE_EXAMPLES[rule], make_order, now)


# --------------------------------------------------------------------------- every deadline at +/- 1 second

def _in_transit(make, now):
    o = _shipped(make, now, shipped_at=now - days(10))
    return o, o.shipped_at + days(60)


def _in_transit_own(make, now):
    o = _shipped(make, now, shipped_at=now - days(10), delivery_days=25)
    return o, o.shipped_at + days(25)


def _open(make, now):
    o = _shipped(make, now, dispute=Dispute(opened_at=now - days(1), state=DisputeState.OPEN, reason="damaged"))
    return o, o.dispute.opened_at + days(16)


def _completed(make, now):
    o = _confirmed(make, now, now - days(3))
    return o, o.confirmed_at + days(15)


def _never_arrived(make, now):
    o = _shipped(make, now, shipped_at=now - days(50))
    return o, o.shipped_at + days(60 + 15)


def _unshipped(make, now):
    o = _paid(make, now, paid_at=now - days(2))
    return o, o.paid_at + hours(24) + days(7)


DISPUTE_PROBES = [
    Probe("delivery window defaults to 60 days", _in_transit, "dispute.in_transit",
          "dispute.window_passed_not_delivered", lambda d: d),
    Probe("delivery window uses the order's delivery days", _in_transit_own, "dispute.in_transit",
          "dispute.window_passed_not_delivered", lambda d: d),
    Probe("open dispute escalates after 16 days", _open, "dispute.open", "dispute.escalated", lambda d: d),
    Probe("buyer protection ends 15 days after completion", _completed, "dispute.after_completion",
          "dispute.window_closed", lambda d: d),
    Probe("buyer protection ends 15 days after the delivery window", _never_arrived,
          "dispute.window_passed_not_delivered", "dispute.window_closed", lambda d: d),
    Probe("unshipped order is closed at ship-by", _unshipped, "dispute.not_shipped", "dispute.order_closed",
          lambda d: d),
]


@at_each_deadline
@pytest.mark.parametrize("probe", DISPUTE_PROBES, ids=probe_ids)
def test_dispute_answer_switches_exactly_at_each_deadline(probe, offset, make_order, now):
    check_probe("dispute", probe, offset, make_order, now)


def test_the_last_second_before_the_delivery_window_ends_still_counts_as_in_transit(make_order, now):
    shipped = now - days(60) + SECOND
    decision = decide(_shipped(make_order, now, shipped_at=shipped), now)
    assert decision.status is Status.AWAITING_DELIVERY
    assert decision.dispute.rule == "dispute.in_transit"


# --------------------------------------------------------------------------- before shipment / closed

@pytest.mark.parametrize(
    "status, how, has_deadline",
    [
        (Status.AWAITING_PAYMENT, How.NOT_AVAILABLE, False),
        (Status.PAYMENT_PROCESSING, How.NOT_AVAILABLE, False),
        (Status.AWAITING_SHIPMENT, How.NOT_AVAILABLE, True),
    ],
)
def test_dispute_needs_a_shipped_order(status, how, has_deadline, make_order, now):
    paid = None if status is Status.AWAITING_PAYMENT else now - hours(2)
    order = make_order(status=status, placed_at=now - hours(3), paid_at=paid)
    decision = decide(order, now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, how, "dispute.not_shipped")
    ship_by = now - hours(2) + hours(24) + days(7)
    assert answer.deadline == (ship_by if has_deadline else None)
    assert dict(answer.dates) == ({"ship_by": ship_by} if has_deadline else {})
    assert "only once the order has shipped" in said(decision, "dispute")
    assert "cancel the order instead" in said(decision, "dispute")


def test_closed_order_has_nothing_to_dispute(make_order, now):
    order = _paid(make_order, now, status=Status.CLOSED, closed_at=now - days(1),
                  closed_reason=ClosedReason.SELLER_CANCELLED)
    decision = decide(order, now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "dispute.order_closed")
    assert answer.deadline is None
    assert dict(answer.dates) == {}
    assert "nothing to dispute" in said(decision, "dispute")
    assert "The seller cancelled it on Sat 21 Nov, 12:00 UTC." in said(decision, "dispute")


# --------------------------------------------------------------------------- in transit

def test_dispute_can_be_opened_while_the_parcel_is_in_transit(make_order, now):
    shipped = now - days(5)
    decision = decide(_shipped(make_order, now, shipped_at=shipped), now)
    answer = decision.dispute
    ends = shipped + days(60)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "dispute.in_transit")
    assert answer.deadline == ends
    assert dict(answer.dates) == {"delivery_window_ends": ends, "dispute_until": ends + days(15)}
    assert "The order shipped on Tue 17 Nov, 12:00 UTC" in said(decision, "dispute")
    assert "tracking doesn't work or hasn't moved" in said(decision, "dispute")
    assert "shows delivery somewhere else" in said(decision, "dispute")
    assert "delivery window ends on Sat 16 Jan 2027, 12:00 UTC" in said(decision, "dispute")
    assert "Buyer protection lasts until Sun 31 Jan 2027, 12:00 UTC" in said(decision, "dispute")


def test_orders_own_delivery_days_set_the_delivery_window(make_order, now):
    shipped = now - days(5)
    answer = decide(_shipped(make_order, now, shipped_at=shipped, delivery_days=20), now).dispute
    assert answer.deadline == shipped + days(20)
    assert dict(answer.dates) == {"delivery_window_ends": shipped + days(20), "dispute_until": shipped + days(35)}


def test_nothing_delivered_when_the_delivery_window_ends_means_dispute_now(make_order, now):
    shipped = now - days(61)
    decision = decide(_shipped(make_order, now, shipped_at=shipped), now)
    ends = shipped + days(60)
    assert decision.status is Status.COMPLETED
    assert decision.order.completed_reason is CompletedReason.DELIVERY_WINDOW_ENDED
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "dispute.window_passed_not_delivered")
    assert answer.deadline == ends + days(15)
    assert dict(answer.dates) == {"dispute_until": ends + days(15)}
    assert "The delivery window ended on Sat 21 Nov, 12:00 UTC and nothing was delivered" in said(decision, "dispute")
    assert "open a dispute now (reason: not received)" in said(decision, "dispute")
    assert "You can until Sun 6 Dec, 12:00 UTC" in said(decision, "dispute")


def test_delivered_but_unconfirmed_order_gets_the_ordinary_after_completion_answer(make_order, now):
    order = _window_ended(make_order, now, now - days(62), delivered_at=now - days(30))
    answer = decide(order, now).dispute
    assert answer.rule == "dispute.after_completion"


# --------------------------------------------------------------------------- after completion

def test_dispute_after_completion_is_possible_for_15_days(make_order, now):
    confirmed = now - days(3)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "dispute.after_completion")
    assert answer.deadline == confirmed + days(15)
    assert dict(answer.dates) == {"dispute_until": confirmed + days(15)}
    assert "completed on Thu 19 Nov, 12:00 UTC" in said(decision, "dispute")
    assert "damaged or fake" in said(decision, "dispute")
    assert "until Fri 4 Dec, 12:00 UTC" in said(decision, "dispute")
    assert "full or partial" in said(decision, "dispute")


def test_dispute_window_closes_15_days_after_completion(make_order, now):
    confirmed = now - days(15)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "dispute.window_closed")
    assert answer.deadline is None
    assert dict(answer.dates) == {"dispute_until": now}
    assert "Buyer protection for this order ended on Sun 22 Nov, 12:00 UTC" in said(decision, "dispute")


def test_confirmed_order_can_still_be_disputed_under_the_default_setting(make_order, now):
    answer = decide(_confirmed(make_order, now, now - days(3)), now).dispute
    assert answer.allowed is True
    assert answer.rule == "dispute.after_completion"


def test_no_refund_setting_refuses_a_dispute_after_confirming_receipt(make_order, now):
    decision = decide(_confirmed(make_order, now, now - days(3)), now, NO_REFUND)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "dispute.confirmed_no_refund")
    assert answer.deadline is None
    assert dict(answer.dates) == {}
    assert "You confirmed receipt on Thu 19 Nov, 12:00 UTC" in said(decision, "dispute")
    assert "under this marketplace's rules" in said(decision, "dispute")
    assert "can't get the money back" in said(decision, "dispute")


def test_no_refund_setting_still_lets_the_buyer_dispute_a_parcel_that_never_came(make_order, now):
    answer = decide(_window_ended(make_order, now, now - days(62)), now, NO_REFUND).dispute
    assert answer.allowed is True
    assert answer.rule == "dispute.window_passed_not_delivered"


# --------------------------------------------------------------------------- an existing dispute

def test_open_dispute_escalates_by_itself_after_16_days(make_order, now):
    opened = now - days(2)
    order = _shipped(make_order, now, dispute=Dispute(opened_at=opened, state=DisputeState.OPEN,
                                                     reason="tracking_stalled"))
    decision = decide(order, now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.ESCALATE, "dispute.open")
    assert answer.deadline == opened + days(16)
    assert dict(answer.dates) == {"escalates_at": opened + days(16)}
    assert "Your dispute from Fri 20 Nov, 12:00 UTC is open" in said(decision, "dispute")
    assert "by Sun 6 Dec, 12:00 UTC" in said(decision, "dispute")
    assert "escalate it yourself" in said(decision, "dispute")


def test_escalated_dispute_is_in_the_platforms_hands(make_order, now):
    opened = now - days(16)
    order = _shipped(make_order, now, shipped_at=now - days(30), dispute=Dispute(
        opened_at=opened, state=DisputeState.OPEN, reason="not_received"))
    decision = decide(order, now)
    assert decision.order.dispute.state is DisputeState.ESCALATED
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.AUTOMATIC, "dispute.escalated")
    assert answer.deadline is None
    assert dict(answer.dates) == {"escalated_at": now}
    assert "went to the platform on Sun 22 Nov, 12:00 UTC" in said(decision, "dispute")
    assert "evidence from both sides" in said(decision, "dispute")


@pytest.mark.parametrize("state", [DisputeState.RESOLVED, DisputeState.WITHDRAWN])
def test_a_second_dispute_cannot_be_opened(state, make_order, now):
    order = _confirmed(make_order, now, now - days(3), dispute=Dispute(
        opened_at=now - days(2), state=state, reason="damaged", resolved_at=now - days(1)))
    decision = decide(order, now)
    answer = decision.dispute
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "dispute.ended")
    assert answer.deadline is None
    assert f"has ended ({state.value})" in said(decision, "dispute")
    assert "a second one can't be opened" in said(decision, "dispute")


def test_dispute_that_ended_in_a_refund_closes_the_order(make_order, now):
    order = _shipped(make_order, now, status=Status.CLOSED, closed_at=now - days(1),
                     closed_reason=ClosedReason.DISPUTE_REFUNDED, dispute=Dispute(
                         opened_at=now - days(4), state=DisputeState.RESOLVED, reason="not_received",
                         resolved_at=now - days(1)))
    decision = decide(order, now)
    assert decision.dispute.rule == "dispute.ended"
    assert decision.refund.rule == "refund.in_progress"
    assert "when your dispute ended with a refund" in said(decision, "refund")
