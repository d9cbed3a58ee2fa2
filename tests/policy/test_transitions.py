"""Time-driven changes: `next_transition`, `apply_transition`, `advance`, and `decide`'s clock rules."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import pytest

from orderdesk.model import (
    Cancellation,
    CancellationState,
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    Status,
)
from orderdesk.policy import QUESTIONS, RULES, Transition, advance, apply_transition, decide, next_transition
from policy_builders import SECOND, days, hours, paid as _paid, shipped as _shipped


def _pending(requested):
    return Cancellation(requested_at=requested, state=CancellationState.PENDING, reason="duplicate_order")


def _open(opened):
    return Dispute(opened_at=opened, state=DisputeState.OPEN, reason="not_received")


# --------------------------------------------------------------------------- each transition at +/- 1 second

@dataclass(frozen=True)
class Due:
    kind: str
    build: Callable  # (make_order, now) -> (order, deadline)
    check: Callable  # (order after the transition, deadline) -> None (asserts)


def _check_closed(reason):
    def check(o, deadline):
        assert o.status is Status.CLOSED
        assert o.closed_reason is reason
        assert o.closed_at == deadline
    return check


def _check_seller_silent(o, deadline):
    _check_closed(ClosedReason.SELLER_NO_RESPONSE)(o, deadline)
    assert o.cancellation.state is CancellationState.AUTO_APPROVED


def _check_verified(o, deadline):
    assert o.status is Status.AWAITING_SHIPMENT
    assert o.closed_at is None


def _check_completed(o, deadline):
    assert o.status is Status.COMPLETED
    assert o.completed_reason is CompletedReason.DELIVERY_WINDOW_ENDED
    assert o.completed_at == deadline


def _check_escalated(o, deadline):
    assert o.status is Status.AWAITING_DELIVERY
    assert o.dispute.state is DisputeState.ESCALATED
    assert o.dispute.escalated_at == deadline


def _unpaid(make, now):
    o = make(placed_at=now - days(5))
    return o, o.placed_at + days(20)


def _processing(make, now):
    o = _paid(make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(5))
    return o, o.paid_at + hours(24)


def _silent(make, now):
    o = _paid(make, now, handling_days=10, cancellation=_pending(now - hours(5)))
    return o, o.cancellation.requested_at + hours(72)


def _not_shipped_default(make, now):
    o = _paid(make, now, paid_at=now - days(2))
    return o, o.paid_at + hours(24) + days(7)


def _not_shipped_own(make, now):
    o = _paid(make, now, paid_at=now - days(2), handling_days=4)
    return o, o.paid_at + hours(24) + days(4)


def _window_default(make, now):
    o = _shipped(make, now, shipped_at=now - days(10))
    return o, o.shipped_at + days(60)


def _window_own(make, now):
    o = _shipped(make, now, shipped_at=now - days(10), delivery_days=45)
    return o, o.shipped_at + days(45)


def _escalation(make, now):
    o = _shipped(make, now, dispute=_open(now - days(1)))
    return o, o.dispute.opened_at + days(16)


DUE = [
    pytest.param(Due("unpaid_closed", _unpaid, _check_closed(ClosedReason.UNPAID_TIMEOUT)),
                 id="unpaid_order_closes_20_days_after_placing"),
    pytest.param(Due("payment_verified", _processing, _check_verified),
                 id="payment_check_ends_24_hours_after_paying"),
    pytest.param(Due("seller_silent", _silent, _check_seller_silent),
                 id="seller_silence_cancels_72_hours_after_the_request"),
    pytest.param(Due("not_shipped", _not_shipped_default, _check_closed(ClosedReason.NOT_SHIPPED_IN_TIME)),
                 id="unshipped_order_closes_7_days_after_the_payment_check"),
    pytest.param(Due("not_shipped", _not_shipped_own, _check_closed(ClosedReason.NOT_SHIPPED_IN_TIME)),
                 id="unshipped_order_closes_after_its_own_handling_days"),
    pytest.param(Due("delivery_window_ended", _window_default, _check_completed),
                 id="order_completes_60_days_after_shipping"),
    pytest.param(Due("delivery_window_ended", _window_own, _check_completed),
                 id="order_completes_after_its_own_delivery_days"),
    pytest.param(Due("dispute_escalated", _escalation, _check_escalated),
                 id="open_dispute_escalates_16_days_after_opening"),
]


@pytest.mark.parametrize("due", DUE)
def test_transition_is_not_due_one_second_before_its_deadline(due, make_order, now):
    order, deadline = due.build(make_order, now)
    pending = next_transition(order)
    assert (pending.kind, pending.at) == (due.kind, deadline)
    after, done = advance(order, deadline - SECOND)
    assert done == []
    assert after == order


@pytest.mark.parametrize("offset", [timedelta(0), SECOND], ids=["exactly", "plus_1s"])
@pytest.mark.parametrize("due", DUE)
def test_transition_has_happened_at_its_deadline(due, offset, make_order, now):
    order, deadline = due.build(make_order, now)
    after, done = advance(order, deadline + offset)
    assert [t.kind for t in done] == [due.kind]
    assert done[0].at == deadline
    assert done[0].from_status is order.status
    assert done[0].to_status is after.status
    due.check(after, deadline)


@pytest.mark.parametrize(
    "kind, refund_due",
    [("unpaid_closed", False), ("payment_verified", False), ("seller_silent", True), ("not_shipped", True),
     ("delivery_window_ended", False), ("dispute_escalated", False)],
)
def test_only_closing_a_paid_order_makes_a_refund_due(kind, refund_due, make_order, now):
    builders = {"unpaid_closed": _unpaid, "payment_verified": _processing, "seller_silent": _silent,
                "not_shipped": _not_shipped_default, "delivery_window_ended": _window_default,
                "dispute_escalated": _escalation}
    order, deadline = builders[kind](make_order, now)
    _, done = advance(order, deadline)
    assert done[0].refund_due is refund_due


# --------------------------------------------------------------------------- chains, order, idempotence

def test_advance_applies_the_payment_check_then_the_ship_by_close_in_order(make_order, now):
    paid = now - days(30)
    order = _paid(make_order, now, status=Status.PAYMENT_PROCESSING, placed_at=paid, paid_at=paid)
    after, done = advance(order, now)
    verified, ship_by = paid + hours(24), paid + hours(24) + days(7)
    assert done == [
        Transition("payment_verified", verified, Status.PAYMENT_PROCESSING, Status.AWAITING_SHIPMENT),
        Transition("not_shipped", ship_by, Status.AWAITING_SHIPMENT, Status.CLOSED, refund_due=True),
    ]
    assert after.status is Status.CLOSED
    assert after.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME
    assert after.closed_at == ship_by


def test_advance_stops_between_two_deadlines(make_order, now):
    paid = now - days(3)
    order = _paid(make_order, now, status=Status.PAYMENT_PROCESSING, paid_at=paid)
    after, done = advance(order, now)
    assert [t.kind for t in done] == ["payment_verified"]
    assert after.status is Status.AWAITING_SHIPMENT
    assert next_transition(after).at == paid + hours(24) + days(7)


def test_decide_reports_the_transitions_it_applied(make_order, now):
    paid = now - days(30)
    order = _paid(make_order, now, status=Status.PAYMENT_PROCESSING, placed_at=paid, paid_at=paid)
    decision = decide(order, now)
    assert [t.kind for t in decision.transitions] == ["payment_verified", "not_shipped"]
    assert isinstance(decision.transitions, tuple)
    assert decision.status is Status.CLOSED
    assert decision.now == now
    assert set(decision.answers()) == {"cancel", "refund", "dispute", "return"}
    assert decision.answers()["return"] is decision.return_


IDEMPOTENCE_CASES = {
    "unpaid_long_ago": lambda make, now: make(placed_at=now - days(40)),
    "unpaid_recently": lambda make, now: make(placed_at=now - hours(1)),
    "payment_check_then_not_shipped": lambda make, now: _paid(
        make, now, status=Status.PAYMENT_PROCESSING, placed_at=now - days(30), paid_at=now - days(30)),
    "seller_silent": lambda make, now: _paid(make, now, cancellation=_pending(now - days(4)), handling_days=20),
    "delivery_window_ended": lambda make, now: _shipped(make, now, shipped_at=now - days(90)),
    "dispute_escalated_long_ago": lambda make, now: _shipped(make, now, shipped_at=now - days(120),
                                                             dispute=_open(now - days(70))),
    "in_transit": lambda make, now: _shipped(make, now),
}


@pytest.mark.parametrize("case", sorted(IDEMPOTENCE_CASES))
def test_advancing_twice_changes_nothing_more(case, make_order, now):
    order = IDEMPOTENCE_CASES[case](make_order, now)
    once, _ = advance(order, now)
    twice, more = advance(once, now)
    assert twice == once
    assert more == []
    assert decide(once, now).transitions == ()


def test_decide_leaves_the_given_order_untouched(make_order, now):
    order = make_order(placed_at=now - days(40))
    decision = decide(order, now)
    assert order.status is Status.AWAITING_PAYMENT
    assert decision.order is not order
    assert decision.order.status is Status.CLOSED


# --------------------------------------------------------------------------- disputes and completion

def test_open_dispute_blocks_auto_completion(make_order, now):
    shipped = now - days(70)
    order = _shipped(make_order, now, shipped_at=shipped, dispute=_open(now - days(5)))
    after, done = advance(order, now)
    assert done == []
    assert after.status is Status.AWAITING_DELIVERY
    assert after.completed_at is None
    assert next_transition(after).kind == "dispute_escalated"


def test_escalated_dispute_keeps_blocking_auto_completion(make_order, now):
    opened = now - days(20)
    order = _shipped(make_order, now, shipped_at=now - days(90), dispute=_open(opened))
    after, done = advance(order, now)
    assert done == [Transition("dispute_escalated", opened + days(16), Status.AWAITING_DELIVERY,
                               Status.AWAITING_DELIVERY)]
    assert after.status is Status.AWAITING_DELIVERY
    assert next_transition(after) is None


def test_withdrawn_dispute_no_longer_blocks_auto_completion(make_order, now):
    shipped = now - days(70)
    order = _shipped(make_order, now, shipped_at=shipped, dispute=Dispute(
        opened_at=now - days(30), state=DisputeState.WITHDRAWN, reason="tracking_stalled",
        resolved_at=now - days(25)))
    after, done = advance(order, now)
    assert [t.kind for t in done] == ["delivery_window_ended"]
    assert after.completed_at == shipped + days(60)


def test_dispute_opened_after_completion_escalates_without_changing_the_status(make_order, now):
    confirmed = now - days(20)
    order = _shipped(make_order, now, status=Status.COMPLETED, delivered_at=confirmed, confirmed_at=confirmed,
                     completed_at=confirmed, completed_reason=CompletedReason.CONFIRMED,
                     dispute=_open(now - days(16)))
    after, done = advance(order, now)
    assert [(t.kind, t.from_status, t.to_status) for t in done] == [
        ("dispute_escalated", Status.COMPLETED, Status.COMPLETED)]
    assert after.dispute.state is DisputeState.ESCALATED


# --------------------------------------------------------------------------- cancellation vs ship-by

def test_seller_silence_wins_a_tie_with_ship_by(make_order, now):
    paid = now - days(5)
    ship_by = paid + hours(24) + days(7)
    order = _paid(make_order, now, paid_at=paid, cancellation=_pending(ship_by - hours(72)))
    assert advance(order, ship_by - SECOND) == (order, [])
    after, done = advance(order, ship_by)
    assert [t.kind for t in done] == ["seller_silent"]
    assert after.closed_reason is ClosedReason.SELLER_NO_RESPONSE
    assert after.closed_at == ship_by
    assert after.cancellation.state is CancellationState.AUTO_APPROVED


def test_ship_by_before_the_sellers_answer_closes_the_order_as_not_shipped(make_order, now):
    paid = now - days(8)
    ship_by = paid + hours(24) + days(7)  # one day ago
    order = _paid(make_order, now, paid_at=paid, cancellation=_pending(ship_by - hours(24)))
    after, done = advance(order, now)
    assert [t.kind for t in done] == ["not_shipped"]
    assert after.closed_reason is ClosedReason.NOT_SHIPPED_IN_TIME
    assert after.closed_at == ship_by


def test_rejected_cancellation_does_not_stop_the_ship_by_close(make_order, now):
    paid = now - days(9)
    order = _paid(make_order, now, paid_at=paid, cancellation=Cancellation(
        requested_at=paid + days(2), state=CancellationState.REJECTED, responded_at=paid + days(2)))
    after, done = advance(order, now)
    assert [t.kind for t in done] == ["not_shipped"]
    assert after.cancellation.state is CancellationState.REJECTED


# --------------------------------------------------------------------------- finished orders, bad input

@pytest.mark.parametrize(
    "changes",
    [
        dict(status=Status.CLOSED, closed_reason=ClosedReason.CANCELLATION_APPROVED),
        dict(status=Status.COMPLETED, completed_reason=CompletedReason.CONFIRMED),
    ],
    ids=["closed", "completed"],
)
def test_finished_orders_have_no_pending_transition(changes, make_order, now):
    order = _shipped(make_order, now, closed_at=now - days(400), completed_at=now - days(400), **changes)
    assert next_transition(order) is None
    assert advance(order, now + days(1000)) == (order, [])


def test_next_transition_names_the_deadline_before_it_is_due(make_order, now):
    order = make_order(placed_at=now - days(1))
    assert next_transition(order) == Transition("unpaid_closed", now + days(19), Status.AWAITING_PAYMENT,
                                                Status.CLOSED)


def test_unknown_transition_kind_is_rejected(make_order, now):
    with pytest.raises(ValueError, match="teleport"):
        apply_transition(make_order(), Transition("teleport", now, Status.AWAITING_PAYMENT, Status.CLOSED))


def test_decide_refuses_a_naive_now(make_order, now):
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(make_order(), now.replace(tzinfo=None))


def test_advance_refuses_a_naive_now(make_order, now):
    with pytest.raises(ValueError, match="timezone-aware"):
        advance(make_order(), datetime(2026, 11, 22, 12, 0))


def test_now_in_another_timezone_means_the_same_instant(make_order, now):
    order = make_order(placed_at=now - days(20))  # closes exactly at `now`
    moscow = timezone(timedelta(hours=3))
    just_before = (now - SECOND).astimezone(moscow)
    exactly = now.astimezone(moscow)
    assert decide(order, just_before).status is Status.AWAITING_PAYMENT
    assert decide(order, exactly).status is Status.CLOSED
    assert decide(order, exactly).order.closed_at == now


def test_rules_are_listed_once_each_under_their_own_question():
    assert tuple(RULES) == QUESTIONS
    for question, rules in RULES.items():
        assert len(rules) == len(set(rules))
        assert all(rule.startswith(question + ".") for rule in rules)
