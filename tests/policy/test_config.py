"""The policy's numbers: every one has a source, the table shows them all, and changing one moves its deadline."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields, replace
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
    Status,
)
from orderdesk.policy import decide
from orderdesk.policy_config import DEFAULT, SOURCES, PolicyConfig, policy_table
from policy_builders import said, confirmed as _confirmed, days, hours, paid as _paid

FIELD_NAMES = [f.name for f in fields(PolicyConfig)]


def _shipped(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_DELIVERY)
    kw.setdefault("shipped_at", now - days(5))
    kw.setdefault("placed_at", now - days(9))
    kw.setdefault("paid_at", now - days(9) + hours(1))
    return make(**kw)


# --------------------------------------------------------------------------- sources and the table

def test_every_config_field_has_a_source():
    assert set(SOURCES) == set(FIELD_NAMES)


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_every_source_cites_an_article_or_the_facts_page(name):
    source = SOURCES[name]
    assert source.value
    assert any(ref in source.source for ref in ("000", "001", "003", "facts"))


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_every_source_states_the_default_value(name):
    assert SOURCES[name].value.split()[0] == str(getattr(DEFAULT, name))


def test_default_is_a_plain_policy_config_and_cannot_be_changed_in_place():
    assert DEFAULT == PolicyConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.seller_response_hours = 48  # type: ignore[misc]


def test_policy_table_mentions_every_field_with_its_value():
    table = policy_table()
    for name in FIELD_NAMES:
        assert f"| `{name}` | {getattr(DEFAULT, name)} | {SOURCES[name].source.replace('|', '/')} |" in table


def test_policy_table_has_one_five_column_row_per_field():
    lines = policy_table().splitlines()
    assert lines[0] == "| setting | value | source | other sources | choice |"
    assert len(lines) == 2 + len(FIELD_NAMES)
    for line in lines:
        assert line.count("|") == 6, line


def test_policy_table_shows_a_changed_value():
    table = policy_table(replace(DEFAULT, seller_response_hours=48))
    assert "| `seller_response_hours` | 48 |" in table
    assert "| `seller_response_hours` | 72 |" not in table


def test_policy_table_names_the_alternative_source_for_mistaken_confirmation():
    table = policy_table()
    row = next(line for line in table.splitlines() if "`mistaken_confirmation`" in line)
    assert "return_window" in row
    assert "no_refund" in row
    assert "000" in row and "001" in row


# --------------------------------------------------------------------------- changing a value moves its deadline

def test_changing_seller_response_hours_moves_the_sellers_deadline(make_order, now):
    cfg = replace(DEFAULT, seller_response_hours=48)
    requested = now - hours(5)
    order = _paid(make_order, now, handling_days=10, cancellation=Cancellation(
        requested_at=requested, state=CancellationState.PENDING))
    assert decide(order, now).cancel.deadline == requested + hours(72)
    answer = decide(order, now, cfg).cancel
    assert answer.deadline == requested + hours(48)
    assert answer.dates["seller_answer_by"] == requested + hours(48)
    assert decide(order, requested + hours(48) - timedelta(seconds=1), cfg).status is Status.AWAITING_SHIPMENT
    closed = decide(order, requested + hours(48), cfg)
    assert closed.order.closed_reason is ClosedReason.SELLER_NO_RESPONSE
    assert closed.order.closed_at == requested + hours(48)


def test_changing_seller_response_hours_changes_what_the_buyer_is_told(make_order, now):
    cfg = replace(DEFAULT, seller_response_hours=48)
    decision = decide(_paid(make_order, now), now, cfg)
    answer = decision.cancel
    assert "48 hours to answer" in said(decision, "cancel")
    assert "72 hours" not in said(decision, "cancel")


@dataclass(frozen=True)
class Moves:
    field: str
    value: object
    question: str
    build: Callable  # (make_order, now) -> (order, expected deadline under the changed value)


MOVES = [
    Moves("unpaid_close_days", 10, "cancel",
          lambda make, now: (lambda o: (o, o.placed_at + days(10)))(make(placed_at=now - days(3)))),
    Moves("payment_check_hours", 12, "cancel",
          lambda make, now: (lambda o: (o, o.paid_at + hours(12)))(
              _paid(make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2)))),
    Moves("seller_response_hours", 48, "cancel",
          lambda make, now: (lambda o: (o, o.cancellation.requested_at + hours(48)))(
              _paid(make, now, handling_days=10, cancellation=Cancellation(
                  requested_at=now - hours(5), state=CancellationState.PENDING)))),
    Moves("default_handling_days", 3, "cancel",
          lambda make, now: (lambda o: (o, o.paid_at + hours(24) + days(3)))(_paid(make, now, paid_at=now - days(1)))),
    Moves("default_delivery_days", 30, "dispute",
          lambda make, now: (lambda o: (o, o.shipped_at + days(30)))(_shipped(make, now))),
    Moves("dispute_after_completion_days", 10, "dispute",
          lambda make, now: (lambda o: (o, o.completed_at + days(10)))(_confirmed(make, now, now - days(3)))),
    Moves("dispute_escalation_days", 7, "dispute",
          lambda make, now: (lambda o: (o, o.dispute.opened_at + days(7)))(_shipped(make, now, dispute=Dispute(
              opened_at=now - days(2), state=DisputeState.OPEN, reason="damaged")))),
    Moves("return_window_days", 30, "return",
          lambda make, now: (lambda o: (o, o.delivered_at + days(30)))(
              _shipped(make, now, delivered_at=now - days(5)))),
    Moves("refund_max_days", 10, "refund",
          lambda make, now: (lambda o: (o, o.closed_at + days(10)))(_paid(
              make, now, status=Status.CLOSED, closed_at=now - days(2),
              closed_reason=ClosedReason.CANCELLATION_APPROVED))),
    Moves("refund_not_shipped_max_days", 3, "refund",
          lambda make, now: (lambda o: (o, o.closed_at + days(3)))(_paid(
              make, now, status=Status.CLOSED, closed_at=now - days(1),
              closed_reason=ClosedReason.NOT_SHIPPED_IN_TIME))),
]


@pytest.mark.parametrize("move", MOVES, ids=lambda m: m.field)
def test_changing_a_number_moves_its_deadline(move, make_order, now):
    order, expected = move.build(make_order, now)
    default_answer = decide(order, now).answers()[move.question]
    changed = decide(order, now, replace(DEFAULT, **{move.field: move.value})).answers()[move.question]
    assert changed.rule == default_answer.rule
    assert changed.deadline == expected
    assert changed.deadline != default_answer.deadline


@pytest.mark.parametrize(
    "field, value, build, question, phrase",
    [
        ("refund_min_days", 5, lambda make, now: _paid(make, now), "refund", "5-20 days"),
        ("refund_not_shipped_min_days", 1, lambda make, now: _paid(make, now), "refund", "within 1-5 days"),
        ("payment_check_hours", 12,
         lambda make, now: _paid(make, now, status=Status.PAYMENT_PROCESSING, paid_at=now - hours(2)),
         "cancel", "up to 12 hours"),
        ("return_window_days", 30, lambda make, now: _shipped(make, now), "cancel", "within 30 days of delivery"),
        ("refund_working_days", 30, lambda make, now: _paid(make, now, status=Status.CLOSED, closed_at=now - days(25),
                                                            closed_reason=ClosedReason.CANCELLATION_APPROVED),
         "refund", "up to 30 working days"),
    ],
    ids=["refund_min_days", "refund_not_shipped_min_days", "payment_check_hours", "return_window_days",
         "refund_working_days"],
)
def test_changing_a_number_changes_the_wording(field, value, build, question, phrase, make_order, now):
    decision = decide(build(make_order, now), now, replace(DEFAULT, **{field: value}))
    answer = decision.answers()[question]
    assert phrase in said(decision, question)


def test_every_number_is_shown_to_move_something():
    numeric = {name for name in FIELD_NAMES if isinstance(getattr(DEFAULT, name), int)}
    moved = {m.field for m in MOVES} | {"refund_min_days", "refund_not_shipped_min_days", "refund_working_days"}
    assert numeric == moved


def test_mistaken_confirmation_switch_flips_three_answers(make_order, now):
    order = _confirmed(make_order, now, now - days(3))
    cfg = replace(DEFAULT, mistaken_confirmation="no_refund")
    assert [a.allowed for a in (decide(order, now).refund, decide(order, now).dispute,
                                decide(order, now).return_)] == [True, True, True]
    strict = decide(order, now, cfg)
    assert [a.rule for a in (strict.refund, strict.dispute, strict.return_)] == [
        "refund.confirmed_no_refund", "dispute.confirmed_no_refund", "return.confirmed_no_refund"]
    assert not any(a.allowed for a in (strict.refund, strict.dispute, strict.return_))


def test_auto_cancel_story_uses_the_configured_seller_response_hours(make_order, now):
    """The module promises "Every number comes from orderdesk.policy_config"; the story of an order
    the seller never answered must name the configured window, not a hard-coded 72 hours."""
    cfg = replace(DEFAULT, seller_response_hours=48)
    requested = now - hours(50)
    order = _paid(make_order, now, handling_days=10, cancellation=Cancellation(
        requested_at=requested, state=CancellationState.PENDING))
    decision = decide(order, now, cfg)
    assert decision.order.closed_reason is ClosedReason.SELLER_NO_RESPONSE
    assert "within 48 hours" in said(decision, "cancel")
    assert "72 hours" not in said(decision, "cancel")
