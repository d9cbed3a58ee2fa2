"""Can this buyer return the item for a refund, and until when? (`Decision.return_`)"""
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
    Example,
    Probe,
    at_each_deadline,
    check_example,
    check_probe,
    days,
    hours,
    paid as _paid,
    probe_ids,
)


def _shipped(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_DELIVERY)
    kw.setdefault("shipped_at", now - days(10))
    kw.setdefault("tracking_number", "LP00123456789CN")
    kw.setdefault("placed_at", now - days(14))
    kw.setdefault("paid_at", now - days(14) + hours(1))
    return make(**kw)


def _delivered(make, now, delivered, **kw):
    """Delivered (the carrier says so) but the buyer hasn't confirmed receipt."""
    return _shipped(make, now, shipped_at=delivered - days(10), delivered_at=delivered, **kw)


def _confirmed(make, now, confirmed, **kw):
    kw.setdefault("delivered_at", confirmed)
    return _shipped(make, now, status=Status.COMPLETED, shipped_at=confirmed - days(10), confirmed_at=confirmed,
                    completed_at=confirmed, completed_reason=CompletedReason.CONFIRMED, **kw)


def _window_ended(make, now, shipped, **kw):
    """Completed because the 60-day delivery window ended; nothing was delivered."""
    return _shipped(make, now, status=Status.COMPLETED, shipped_at=shipped, completed_at=shipped + days(60),
                    completed_reason=CompletedReason.DELIVERY_WINDOW_ENDED, **kw)


# --------------------------------------------------------------------------- one example per rule

RETURN_EXAMPLES: dict[str, Example] = {
    "return.order_closed": Example(lambda make, now: _paid(
        make, now, status=Status.CLOSED, closed_at=now - days(1), closed_reason=ClosedReason.CANCELLATION_APPROVED)),
    "return.not_shipped": Example(lambda make, now: _paid(make, now)),
    "return.dispute_open": Example(lambda make, now: _delivered(make, now, now - days(2), dispute=Dispute(
        opened_at=now - days(1), state=DisputeState.OPEN, reason="not_as_described"))),
    "return.not_delivered": Example(lambda make, now: _shipped(make, now)),
    "return.never_delivered": Example(lambda make, now: _window_ended(make, now, now - days(62))),
    "return.protection_ended": Example(lambda make, now: _window_ended(make, now, now - days(80))),
    "return.dispute_ended": Example(lambda make, now: _delivered(make, now, now - days(2), dispute=Dispute(
        opened_at=now - days(1), state=DisputeState.WITHDRAWN, reason="not_as_described"))),
    "return.confirmed_no_refund": Example(lambda make, now: _confirmed(make, now, now - days(3)), NO_REFUND),
    "return.window_closed": Example(lambda make, now: _delivered(make, now, now - days(16))),
    "return.after_confirmation": Example(lambda make, now: _confirmed(make, now, now - days(3))),
    "return.within_window": Example(lambda make, now: _delivered(make, now, now - days(2))),
}


def test_every_return_rule_has_an_example():
    assert set(RETURN_EXAMPLES) == set(RULES["return"])


@pytest.mark.parametrize("rule", sorted(RETURN_EXAMPLES))
def test_each_return_example_reaches_its_rule(rule, make_order, now):
    check_example("return", rule, RETURN_EXAMPLES[rule], make_order, now)


# --------------------------------------------------------------------------- every deadline at +/- 1 second

def _delivered_probe(make, now):
    o = _delivered(make, now, now - days(2))
    return o, o.delivered_at + days(15)


def _confirmed_probe(make, now):
    o = _confirmed(make, now, now - days(2))
    return o, o.delivered_at + days(15)


def _in_transit(make, now):
    o = _shipped(make, now, shipped_at=now - days(10))
    return o, o.shipped_at + days(60)


def _unshipped(make, now):
    o = _paid(make, now, paid_at=now - days(2))
    return o, o.paid_at + hours(24) + days(7)


RETURN_PROBES = [
    Probe("return window is 15 days from delivery", _delivered_probe, "return.within_window",
          "return.window_closed", lambda d: d),
    Probe("return window after confirming is 15 days from delivery", _confirmed_probe,
          "return.after_confirmation", "return.window_closed", lambda d: d),
    Probe("delivery window ends with nothing delivered", _in_transit, "return.not_delivered",
          "return.never_delivered", lambda d: d),
    Probe("unshipped order is closed at ship-by", _unshipped, "return.not_shipped", "return.order_closed"),
]


@at_each_deadline
@pytest.mark.parametrize("probe", RETURN_PROBES, ids=probe_ids)
def test_return_answer_switches_exactly_at_each_deadline(probe, offset, make_order, now):
    check_probe("return", probe, offset, make_order, now)


# --------------------------------------------------------------------------- nothing to return yet

@pytest.mark.parametrize("status", [Status.AWAITING_PAYMENT, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT])
def test_nothing_to_return_before_shipment(status, make_order, now):
    paid = None if status is Status.AWAITING_PAYMENT else now - hours(2)
    decision = decide(make_order(status=status, placed_at=now - hours(3), paid_at=paid), now)
    answer = decision.return_
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "return.not_shipped")
    assert answer.deadline is None
    assert "cancel the order instead" in said(decision, "return")


def test_closed_order_has_nothing_to_return(make_order, now):
    order = _paid(make_order, now, status=Status.CLOSED, closed_at=now - days(1),
                  closed_reason=ClosedReason.CANCELLATION_APPROVED)
    decision = decide(order, now)
    answer = decision.return_
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "return.order_closed")
    assert "nothing to return" in said(decision, "return")
    assert "The seller approved your cancellation on Sat 21 Nov, 12:00 UTC." in said(decision, "return")


def test_parcel_in_transit_can_be_returned_only_once_it_arrives(make_order, now):
    shipped = now - days(10)
    decision = decide(_shipped(make_order, now, shipped_at=shipped), now)
    answer = decision.return_
    ends = shipped + days(60)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.WAIT, "return.not_delivered")
    assert answer.deadline == ends
    assert dict(answer.dates) == {"delivery_window_ends": ends}
    assert "Once it arrives you have 15 days to return it in its original condition" in said(decision, "return")
    assert "hasn't arrived by Mon 11 Jan 2027, 12:00 UTC, open a dispute instead" in said(decision, "return")


def test_parcel_that_never_arrived_is_a_dispute_not_a_return(make_order, now):
    shipped = now - days(62)
    decision = decide(_window_ended(make_order, now, shipped), now)
    answer = decision.return_
    until = shipped + days(75)
    assert (answer.allowed, answer.how, answer.rule) == (False, How.DISPUTE, "return.never_delivered")
    assert answer.deadline == until
    assert dict(answer.dates) == {"dispute_until": until}
    assert "open a dispute for a parcel that never arrived" in said(decision, "return")


def test_open_dispute_handles_any_return(make_order, now):
    order = _delivered(make_order, now, now - days(2), dispute=Dispute(
        opened_at=now - days(1), state=DisputeState.OPEN, reason="not_as_described"))
    decision = decide(order, now)
    answer = decision.return_
    assert (answer.allowed, answer.how, answer.rule) == (False, How.DISPUTE, "return.dispute_open")
    assert answer.deadline is None
    assert "return is arranged inside the dispute" in said(decision, "return")


# --------------------------------------------------------------------------- the 15-day window

def test_delivered_item_can_be_returned_within_15_days(make_order, now):
    delivered = now - days(2)
    decision = decide(_delivered(make_order, now, delivered), now)
    answer = decision.return_
    until = delivered + days(15)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "return.within_window")
    assert answer.deadline == until
    assert dict(answer.dates) == {"return_until": until}
    assert "You received it on Fri 20 Nov, 12:00 UTC" in said(decision, "return")
    assert "return it until Sat 5 Dec, 12:00 UTC" in said(decision, "return")
    assert "original condition" in said(decision, "return")
    assert "full or partial refund" in said(decision, "return")


def test_return_window_closes_15_days_after_delivery(make_order, now):
    delivered = now - days(16)
    decision = decide(_delivered(make_order, now, delivered), now)
    answer = decision.return_
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "return.window_closed")
    assert answer.deadline is None
    assert dict(answer.dates) == {"return_until": delivered + days(15)}
    assert "The 15-day return window ended on Sat 21 Nov, 12:00 UTC" in said(decision, "return")


def test_return_window_counts_from_delivery_not_from_confirmation(make_order, now):
    delivered, confirmed = now - days(6), now - days(1)
    answer = decide(_confirmed(make_order, now, confirmed, delivered_at=delivered), now).return_
    assert answer.deadline == delivered + days(15)


def test_return_window_counts_from_confirmation_when_delivery_was_not_recorded(make_order, now):
    confirmed = now - days(1)
    answer = decide(_confirmed(make_order, now, confirmed, delivered_at=None), now).return_
    assert answer.rule == "return.after_confirmation"
    assert answer.deadline == confirmed + days(15)


def test_return_after_confirming_receipt_is_allowed_but_not_promised(make_order, now):
    confirmed = now - days(3)
    decision = decide(_confirmed(make_order, now, confirmed), now)
    answer = decision.return_
    until = confirmed + days(15)
    assert (answer.allowed, answer.how, answer.rule) == (True, How.DISPUTE, "return.after_confirmation")
    assert answer.deadline == until
    assert dict(answer.dates) == {"return_until": until}
    text = said(decision, "return")
    assert "You confirmed receipt on Thu 19 Nov, 12:00 UTC" in text
    assert "released the payment to the seller" in text
    assert "You can still ask for a return until Fri 4 Dec, 12:00 UTC" in text
    assert "success isn't guaranteed" in text


def test_no_refund_setting_refuses_a_return_after_confirming_receipt(make_order, now):
    decision = decide(_confirmed(make_order, now, now - days(3)), now, NO_REFUND)
    answer = decision.return_
    assert (answer.allowed, answer.how, answer.rule) == (False, How.NOT_AVAILABLE, "return.confirmed_no_refund")
    assert answer.deadline is None
    assert dict(answer.dates) == {}
    assert "You confirmed receipt on Thu 19 Nov, 12:00 UTC" in said(decision, "return")
    assert "under this marketplace's rules a return for a refund is no longer possible" in said(decision, "return")
    assert "no longer possible" in said(decision, "return")


def test_no_refund_setting_leaves_unconfirmed_deliveries_returnable(make_order, now):
    answer = decide(_delivered(make_order, now, now - days(2)), now, NO_REFUND).return_
    assert answer.allowed is True
    assert answer.rule == "return.within_window"


def test_no_refund_setting_switches_return_dispute_and_refund_together(make_order, now):
    order = _confirmed(make_order, now, now - days(3))
    default, strict = decide(order, now), decide(order, now, NO_REFUND)
    for name in ("refund", "dispute", "return"):
        assert default.answers()[name].allowed is True
        assert strict.answers()[name].allowed is False
        assert strict.answers()[name].how is How.NOT_AVAILABLE
        assert strict.answers()[name].rule == f"{name}.confirmed_no_refund"


# --------------------------------------------------------------------------- consistency with the dispute answer

def test_parcel_that_never_arrived_stops_pointing_to_a_dispute_once_buyer_protection_ends(make_order, now):
    """After buyer protection ends the dispute answer is dispute.window_closed; the return answer must not
    still send the buyer to "open a dispute", with a deadline that has already passed."""
    shipped = now - days(80)
    decision = decide(_window_ended(make_order, now, shipped), now)
    assert decision.dispute.rule == "dispute.window_closed"
    answer = decision.return_
    assert answer.deadline is None or answer.deadline > now
    assert "open a dispute" not in said(decision, "return")


def test_return_is_not_offered_through_a_dispute_after_the_orders_dispute_ended(make_order, now):
    """A return is requested with "Open a Dispute"; once the order's dispute has ended the dispute answer
    says a second one can't be opened, so the return answer must not offer one."""
    order = _confirmed(make_order, now, now - days(3), dispute=Dispute(
        opened_at=now - days(2), state=DisputeState.RESOLVED, reason="damaged", resolved_at=now - days(1)))
    decision = decide(order, now)
    assert decision.dispute.rule == "dispute.ended"
    assert not (decision.return_.allowed and decision.return_.how is How.DISPUTE), decision.return_.rule
