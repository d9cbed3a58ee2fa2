"""Which of a buyer's orders a question is about (`orderdesk.candidates`, for the topics of `orderdesk.topics`).

One order of each kind, built relative to the fixed `now`; for every question the set of kinds it
is about. Then the ranking (relevant first, best tier, newest first), the pick for strong
questions, and the deadlines at +/- 1 second.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Callable

import pytest

from orderdesk.candidates import rank, relevant, the_one, tier
from orderdesk.model import (
    Cancellation,
    CancellationState,
    ClosedReason,
    Dispute,
    DisputeState,
    Status,
)
from orderdesk.policy import return_until
from orderdesk.topics import TOPICS, topic
from policy_builders import SECOND, confirmed as _confirmed, days, hours, paid as _paid, shipped as _shipped


def _cancellation(state, requested, responded=None, tracking=None):
    return Cancellation(requested_at=requested, state=state, reason="duplicate_order", responded_at=responded,
                        tracking_number=tracking)


def _dispute(state, opened, **kw):
    return Dispute(opened_at=opened, state=state, reason="not_as_described", **kw)


# --------------------------------------------------------------------------- one order of each kind

KINDS: dict[str, Callable] = {
    "unpaid": lambda make, now: make(placed_at=now - days(2)),
    "unpaid for 21 days (closed by now)": lambda make, now: make(placed_at=now - days(21)),
    "payment being checked": lambda make, now: _paid(
        make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2)),
    "paid, not shipped": lambda make, now: _paid(make, now),
    "cancellation pending": lambda make, now: _paid(
        make, now, cancellation=_cancellation(CancellationState.PENDING, now - hours(10))),
    "seller silent for 72 hours (cancelled by now)": lambda make, now: _paid(
        make, now, cancellation=_cancellation(CancellationState.PENDING, now - hours(73))),
    "cancellation rejected": lambda make, now: _shipped(
        make, now, cancellation=_cancellation(CancellationState.REJECTED, now - days(6), now - days(5),
                                              "LP00123456789CN")),
    "cancellation approved": lambda make, now: _paid(
        make, now, status=Status.CLOSED, closed_at=now - days(1), closed_reason=ClosedReason.CANCELLATION_APPROVED,
        cancellation=_cancellation(CancellationState.APPROVED, now - days(2), now - days(1))),
    "seller cancelled": lambda make, now: _paid(
        make, now, status=Status.CLOSED, closed_at=now - days(1), closed_reason=ClosedReason.SELLER_CANCELLED),
    "in transit": lambda make, now: _shipped(make, now),
    "delivered, not confirmed": lambda make, now: _shipped(make, now, delivered_at=now - days(2)),
    "delivery window passed, nothing came": lambda make, now: _shipped(
        make, now, placed_at=now - days(66), paid_at=now - days(66), shipped_at=now - days(62)),
    "confirmed 3 days ago": lambda make, now: _confirmed(make, now, now - days(3)),
    "confirmed 40 days ago": lambda make, now: _confirmed(make, now, now - days(40)),
    "dispute open": lambda make, now: _shipped(
        make, now, delivered_at=now - days(3), dispute=_dispute(DisputeState.OPEN, now - days(2))),
    "dispute open 17 days (escalated by now)": lambda make, now: _shipped(
        make, now, shipped_at=now - days(30), dispute=_dispute(DisputeState.OPEN, now - days(17))),
    "dispute resolved": lambda make, now: _confirmed(
        make, now, now - days(5), dispute=_dispute(DisputeState.RESOLVED, now - days(4), resolved_at=now - days(1))),
}

UNSHIPPED = {"unpaid", "payment being checked", "paid, not shipped", "cancellation pending"}
IN_TRANSIT = {"cancellation rejected", "in transit", "delivered, not confirmed", "dispute open",
              "dispute open 17 days (escalated by now)"}
REFUND_OWED = {"seller silent for 72 hours (cancelled by now)", "cancellation approved", "seller cancelled"}
SHIPPED_IN_PROTECTION = IN_TRANSIT | {"delivery window passed, nothing came", "confirmed 3 days ago",
                                      "dispute resolved"}
EVERY_KIND = set(KINDS)

ABOUT: dict[str, set[str]] = {
    "cancel": UNSHIPPED,
    "no_cancel_button": {"payment being checked", "cancellation pending", "cancellation rejected"},
    "cancel_after_shipment": IN_TRANSIT,
    "cancellation_rejected": {"cancellation rejected"},
    "cancellation_status": {"cancellation pending", "seller silent for 72 hours (cancelled by now)",
                                "cancellation rejected", "cancellation approved"},
    "seller_cancelled": {"seller cancelled"},
    "unpaid_order": {"unpaid", "unpaid for 21 days (closed by now)"},
    "refund": EVERY_KIND,
    "refund_status": REFUND_OWED | {"dispute resolved"},
    "refund_destination": REFUND_OWED | {"dispute resolved"},
    "not_received": IN_TRANSIT | {"delivery window passed, nothing came"},
    "not_as_described": SHIPPED_IN_PROTECTION,
    "dispute": SHIPPED_IN_PROTECTION,
    "escalation": {"dispute open"},
    "return": IN_TRANSIT | {"confirmed 3 days ago", "dispute resolved"},
    "confirmed_by_mistake": {"confirmed 3 days ago", "dispute resolved"},
    "status": EVERY_KIND,
}


def test_every_question_says_which_orders_it_is_about():
    assert set(ABOUT) == set(TOPICS)


@pytest.mark.parametrize("question", sorted(ABOUT))
def test_which_orders_each_question_is_about(question, make_order, now):
    about = {kind for kind, build in KINDS.items() if relevant(build(make_order, now), TOPICS[question], now)}
    assert about == ABOUT[question]


# --------------------------------------------------------------------------- tiers inside a question

BEST_FIRST = [
    ("cancel", "unpaid", "payment being checked"),  # cancellable at once before not yet cancellable
    ("cancel", "paid, not shipped", "cancellation pending"),
    ("no_cancel_button", "payment being checked", "cancellation pending"),
    ("cancellation_status", "cancellation pending", "cancellation rejected"),
    ("unpaid_order", "unpaid", "unpaid for 21 days (closed by now)"),
    ("refund_status", "seller cancelled", "dispute resolved"),
    ("not_received", "in transit", "delivered, not confirmed"),
    ("not_received", "delivery window passed, nothing came", "delivered, not confirmed"),
    ("not_as_described", "delivered, not confirmed", "in transit"),
    ("dispute", "confirmed 3 days ago", "delivery window passed, nothing came"),
    ("return", "delivered, not confirmed", "in transit"),
]


@pytest.mark.parametrize("question, better, worse", BEST_FIRST, ids=lambda x: x.replace(" ", "_"))
def test_within_a_question_the_closer_match_ranks_first(question, better, worse, make_order, now):
    about = TOPICS[question]
    assert tier(KINDS[better](make_order, now), about, now) < tier(KINDS[worse](make_order, now), about, now)


@pytest.mark.parametrize("question", ["status", "refund", "no such topic"])
def test_a_question_without_tiers_finds_every_order_relevant(question, make_order, now):
    for build in KINDS.values():
        assert tier(build(make_order, now), topic(question), now) == 0


def test_an_order_that_moved_on_by_now_is_judged_as_it_is_now(make_order, now):
    # unpaid for 21 days: closed by itself at 20 days, so nothing is left to cancel
    order = KINDS["unpaid for 21 days (closed by now)"](make_order, now)
    assert order.status is Status.AWAITING_PAYMENT
    assert not relevant(order, TOPICS["cancel"], now)
    assert relevant(order, TOPICS["cancel"], now - days(2))


def test_now_must_carry_a_timezone(make_order, now):
    with pytest.raises(ValueError, match="timezone-aware"):
        relevant(make_order(), TOPICS["cancel"], now.replace(tzinfo=None))


# --------------------------------------------------------------------------- deadlines at +/- 1 second

@pytest.mark.parametrize("offset, expected", [(-SECOND, True), (timedelta(0), False), (SECOND, False)],
                         ids=["minus_1s", "exactly", "plus_1s"])
def test_a_confirmed_receipt_stops_being_a_possible_mistake_when_the_return_window_ends(
        offset, expected, make_order, now):
    order = KINDS["confirmed 3 days ago"](make_order, now)
    ends = return_until(order)
    assert ends == order.delivered_at + days(15)
    assert relevant(order, TOPICS["confirmed_by_mistake"], ends + offset) is expected


@pytest.mark.parametrize("offset, expected", [(-SECOND, True), (timedelta(0), False), (SECOND, False)],
                         ids=["minus_1s", "exactly", "plus_1s"])
def test_an_open_dispute_stops_being_one_to_escalate_when_it_escalates_by_itself(offset, expected, make_order, now):
    order = KINDS["dispute open"](make_order, now)
    escalates = order.dispute.opened_at + days(16)
    assert relevant(order, TOPICS["escalation"], escalates + offset) is expected


@pytest.mark.parametrize("offset, expected", [(-SECOND, False), (timedelta(0), True), (SECOND, True)],
                         ids=["minus_1s", "exactly", "plus_1s"])
def test_a_silent_seller_turns_a_pending_cancellation_into_a_refund_after_72_hours(
        offset, expected, make_order, now):
    order = KINDS["cancellation pending"](make_order, now)
    silent = order.cancellation.requested_at + hours(72)
    assert relevant(order, TOPICS["refund_status"], silent + offset) is expected
    assert tier(order, TOPICS["cancellation_status"], silent + offset) == (1 if expected else 0)


# --------------------------------------------------------------------------- ranking

def _orders(make_order, now, *specs):
    """(id, kind, placed days ago) -> orders of those kinds, placed then."""
    out = []
    for oid, kind, placed in specs:
        o = KINDS[kind](make_order, now)
        out.append(replace(o, id=oid, placed_at=now - days(placed)))
    return out


def test_relevant_orders_come_first_best_tier_then_newest_then_the_rest_newest_first(make_order, now):
    orders = _orders(make_order, now,
                     ("A", "in transit", 9),
                     ("B", "cancellation pending", 30),
                     ("C", "paid, not shipped", 4),
                     ("D", "unpaid", 3),
                     ("E", "payment being checked", 3.5),
                     ("F", "confirmed 3 days ago", 20))

    ranked = rank(orders, TOPICS["cancel"], now)

    # cancellable now (D, C), then not shipped (E, B), then the rest (A, F)
    assert [(c.order.id, c.relevant) for c in ranked] == [
        ("D", True), ("C", True), ("E", True), ("B", True), ("A", False), ("F", False)]


def test_orders_placed_at_the_same_moment_are_ranked_by_number(make_order, now):
    same = now - days(2)
    orders = [replace(make_order(), id=oid, placed_at=same) for oid in ("30", "10", "20")]
    assert [c.order.id for c in rank(orders, TOPICS["status"], now)] == ["10", "20", "30"]


def test_a_status_question_keeps_every_order_newest_first(make_order, now):
    orders = _orders(make_order, now, ("old", "in transit", 9), ("new", "unpaid", 2), ("mid", "seller cancelled", 4))
    ranked = rank(orders, TOPICS["status"], now)
    assert [(c.order.id, c.relevant) for c in ranked] == [("new", True), ("mid", True), ("old", True)]


def test_ranked_orders_are_snapshots_as_of_now(make_order, now):
    order = KINDS["seller silent for 72 hours (cancelled by now)"](make_order, now)
    [candidate] = rank([order], TOPICS["refund_status"], now)
    assert candidate.order.status is Status.CLOSED
    assert candidate.order.closed_reason is ClosedReason.SELLER_NO_RESPONSE
    assert candidate.order.cancellation.state is CancellationState.AUTO_APPROVED


def test_ranking_nothing_gives_nothing(now):
    assert rank([], TOPICS["cancel"], now) == []


# --------------------------------------------------------------------------- the order to use without asking

STRONG = {key for key, t in TOPICS.items() if t.strong}


def test_these_are_the_strong_questions():
    assert STRONG == {"cancellation_rejected", "cancellation_status", "seller_cancelled",
                      "escalation", "confirmed_by_mistake"}


@pytest.mark.parametrize("question", sorted(STRONG))
def test_the_only_order_relevant_to_a_strong_question_is_the_one(question, make_order, now):
    hit = next(build(make_order, now) for kind, build in KINDS.items() if kind in ABOUT[question])
    others = [replace(KINDS["in transit"](make_order, now), id="other-1"),
              replace(KINDS["unpaid for 21 days (closed by now)"](make_order, now), id="other-2")]
    others = [o for o in others if not relevant(o, TOPICS[question], now)]
    ranked = rank([*others, replace(hit, id="the-one")], TOPICS[question], now)
    assert the_one(TOPICS[question], ranked).id == "the-one"


def test_two_orders_relevant_to_a_strong_question_leave_the_choice_to_the_buyer(make_order, now):
    rejected = KINDS["cancellation rejected"](make_order, now)
    ranked = rank([replace(rejected, id="1"), replace(rejected, id="2"), replace(make_order(), id="3")],
                  TOPICS["cancellation_rejected"], now)
    assert the_one(TOPICS["cancellation_rejected"], ranked) is None


def test_the_only_order_in_the_best_tier_of_a_strong_question_is_the_one(make_order, now):
    pending = replace(KINDS["cancellation pending"](make_order, now), id="pending")
    rejected = replace(KINDS["cancellation rejected"](make_order, now), id="rejected")
    ranked = rank([rejected, pending], TOPICS["cancellation_status"], now)
    assert the_one(TOPICS["cancellation_status"], ranked).id == "pending"


def test_a_strong_question_no_order_matches_leaves_the_choice_to_the_buyer(make_order, now):
    ranked = rank([replace(make_order(), id="1"), replace(make_order(), id="2")], TOPICS["escalation"], now)
    assert [c.relevant for c in ranked] == [False, False]
    assert the_one(TOPICS["escalation"], ranked) is None


def test_a_general_question_with_one_matching_order_still_leaves_the_choice_to_the_buyer(make_order, now):
    checking = KINDS["payment being checked"](make_order, now)
    ranked = rank([replace(checking, id="1"), replace(make_order(), id="2")], TOPICS["no_cancel_button"], now)
    assert [(c.order.id, c.relevant) for c in ranked] == [("1", True), ("2", False)]
    assert the_one(TOPICS["no_cancel_button"], ranked) is None


@pytest.mark.parametrize("question", ["status", "cancel", "cancellation_rejected"])
def test_a_buyer_with_a_single_order_needs_no_choice_whatever_the_question(question, make_order, now):
    ranked = rank([make_order()], TOPICS[question], now)
    assert the_one(TOPICS[question], ranked) == make_order()


def test_a_buyer_without_orders_has_nothing_to_use(now):
    assert the_one(TOPICS["cancellation_rejected"], []) is None
