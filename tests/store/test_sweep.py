"""The sweep: time-driven transitions applied once, each recorded in the append-only audit log.

Deadlines are half-open: a transition due at D happens in a sweep at D, not at D minus a second.
"""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from orderdesk import db
from orderdesk.demo import SITUATIONS, demo_payload
from orderdesk.repository import UnitOfWork
from orderdesk.services import OPERATOR
from support import NOW, ago, later, order_record, shipped_record

SECOND = timedelta(seconds=1)


def changes_of(result):
    return [(c["order_id"], c["transition"]) for c in result]


def transitions(store):
    return store.audit(db.audit_log.c.kind == "transition")


# --------------------------------------------------------------------------- each transition

def test_sweep_closes_an_order_left_unpaid_for_20_days(services, store):
    store.orders(order_record("1000000001", "awaiting_payment", placed_at=ago(25)))
    result = services.sweep()

    assert result == [{"order_id": "1000000001", "transition": "unpaid_closed", "at": ago(5),
                       "from": "awaiting_payment", "to": "closed"}]
    row = store.order("1000000001")
    assert (row["status"], row["closed_reason"], row["closed_at"]) == ("closed", "unpaid_timeout", ago(5))
    assert store.refund("1000000001") is None  # nothing was paid


def test_sweep_approves_a_cancellation_the_seller_ignored_for_72_hours_and_refunds(services, store):
    store.orders(order_record("1000000001", cancellation={"requested_at": ago(hours=80), "state": "pending",
                                                          "reason": "wrong_product"}))
    assert changes_of(services.sweep()) == [("1000000001", "seller_silent")]

    row = store.order("1000000001")
    assert (row["status"], row["closed_reason"], row["closed_at"]) == ("closed", "seller_no_response", ago(hours=8))
    assert store.cancellation("1000000001")["state"] == "auto_approved"
    refund = store.refund("1000000001")
    assert (refund["reason"], refund["created_at"], refund["expected_by"]) == (
        "seller_silent", ago(hours=8), ago(hours=8) + timedelta(days=20))


def test_sweep_closes_an_order_not_shipped_in_time_and_refunds_within_five_days(services, store):
    # Paid 10 days ago, 3 handling days counted from the end of the 24-hour payment check: due 6 days ago.
    store.orders(order_record("1000000001", placed_at=ago(10), paid_at=ago(10), handling_days=3,
                              payment_method="paypal"))
    assert changes_of(services.sweep()) == [("1000000001", "not_shipped")]

    row = store.order("1000000001")
    assert (row["status"], row["closed_reason"], row["closed_at"]) == ("closed", "not_shipped_in_time", ago(6))
    refund = store.refund("1000000001")
    assert (refund["destination"], refund["expected_by"]) == ("paypal", ago(6) + timedelta(days=5))


def test_sweep_escalates_a_dispute_left_open_for_16_days(services, store):
    store.orders(shipped_record("1000000002", placed_at=ago(40), paid_at=ago(40), shipped_at=ago(35),
                                dispute={"opened_at": ago(17), "state": "open", "reason": "tracking_stalled"}))
    result = services.sweep()

    assert result == [{"order_id": "1000000002", "transition": "dispute_escalated", "at": ago(1),
                       "from": "awaiting_delivery", "to": "awaiting_delivery"}]
    row = store.dispute("1000000002")
    assert (row["state"], row["escalated_at"], row["escalated_by"]) == ("escalated", ago(1), None)
    assert store.order("1000000002")["status"] == "awaiting_delivery"


def test_sweep_escalates_a_dispute_opened_after_completion(services, store):
    store.orders(order_record("1000000003", "completed", placed_at=ago(50), paid_at=ago(50), shipped_at=ago(45),
                              delivered_at=ago(30), confirmed_at=ago(30),
                              dispute={"opened_at": ago(20), "state": "open", "reason": "damaged"}))
    assert changes_of(services.sweep()) == [("1000000003", "dispute_escalated")]
    assert store.dispute("1000000003")["escalated_at"] == ago(4)


def test_sweep_completes_an_order_whose_delivery_window_ended(services, store):
    store.orders(shipped_record("1000000002", placed_at=ago(66), paid_at=ago(66), shipped_at=ago(62)))
    assert changes_of(services.sweep()) == [("1000000002", "delivery_window_ended")]

    row = store.order("1000000002")
    assert (row["status"], row["completed_reason"], row["completed_at"]) == ("completed", "delivery_window_ended",
                                                                             ago(2))


def test_sweep_ends_the_payment_check_after_24_hours(services, store):
    store.orders(order_record("1000000001", "payment_processing", placed_at=ago(hours=30), paid_at=ago(hours=30)))
    assert changes_of(services.sweep()) == [("1000000001", "payment_verified")]
    assert store.order("1000000001")["status"] == "awaiting_shipment"


def test_sweep_applies_every_due_transition_of_an_order_in_time_order(services, store):
    store.orders(order_record("1000000001", "payment_processing", placed_at=ago(10), paid_at=ago(10),
                              handling_days=3))
    assert changes_of(services.sweep()) == [("1000000001", "payment_verified"), ("1000000001", "not_shipped")]
    assert [(r["rule"], r["effective_at"]) for r in transitions(store)] == [("payment_verified", ago(9)),
                                                                            ("not_shipped", ago(6))]
    assert store.order("1000000001")["status"] == "closed"


# --------------------------------------------------------------------------- timing

def test_sweep_a_second_before_the_deadline_changes_nothing_and_at_the_deadline_closes(services, store):
    store.orders(order_record("1000000001", "awaiting_payment", placed_at=ago(20)))  # due exactly at NOW

    assert services.sweep(at=NOW - SECOND) == []
    assert store.order("1000000001")["status"] == "awaiting_payment"
    assert changes_of(services.sweep(at=NOW)) == [("1000000001", "unpaid_closed")]


def test_sweep_leaves_orders_that_are_not_due_alone(services, store):
    store.orders(
        order_record("1000000001", "awaiting_payment", placed_at=ago(2)),
        order_record("1000000002", "payment_processing", placed_at=ago(hours=3), paid_at=ago(hours=3)),
        order_record("1000000003", cancellation={"requested_at": ago(hours=30), "state": "pending"}),
        shipped_record("1000000004"),
    )
    before = store.totals()
    assert services.sweep() == []
    assert store.totals() == before


def test_sweep_ignores_closed_and_completed_orders(services, store):
    store.orders(
        order_record("1000000001", "closed", closed_at=ago(100), closed_reason="seller_cancelled"),
        order_record("1000000002", "completed", placed_at=ago(200), paid_at=ago(200), shipped_at=ago(190),
                     confirmed_at=ago(150)),
    )
    assert services.sweep() == []


# --------------------------------------------------------------------------- twice, and the audit log

def test_second_sweep_changes_nothing_and_adds_no_audit_rows(services, store):
    store.load(demo_payload(NOW))
    first = services.sweep()
    audit_after_first = store.audit()
    orders_after_first = store.rows(db.orders)

    assert services.sweep() == []
    assert store.audit() == audit_after_first
    assert store.rows(db.orders) == orders_after_first
    assert first


def test_sweep_records_each_change_in_the_audit_log(services, store):
    store.load(demo_payload(NOW))
    result = services.sweep()

    rows = transitions(store)
    assert [(r["order_id"], r["rule"], r["effective_at"]) for r in rows] == [
        (c["order_id"], c["transition"], c["at"]) for c in result]
    assert all(r["actor"] == "sweep" and r["at"] == NOW for r in rows)
    assert [json.loads(r["detail"]) for r in rows] == [{"from_status": c["from"], "to_status": c["to"]}
                                                       for c in result]


def test_audit_log_only_grows(services, store):
    store.load(demo_payload(NOW))
    services.sweep()
    earlier = store.audit()

    services.request_cancellation("8100000000000003", "other", customer_id=OPERATOR)
    services.sweep(at=later(days=30))
    services.explain("8100000000000005", customer_id=OPERATOR)
    now_rows = store.audit()

    assert now_rows[: len(earlier)] == earlier
    assert len(now_rows) > len(earlier)


def test_sweeping_the_demo_set_applies_exactly_the_changes_it_was_built_to_show(services, store):
    store.load(demo_payload(NOW))
    assert sorted(changes_of(services.sweep())) == [
        ("8100000000000009", "delivery_window_ended"),  # shipped 62 days ago, 60-day window
        ("8100000000000011", "dispute_escalated"),  # dispute open for 17 days
        ("8100000000000013", "unpaid_closed"),  # unpaid for 21 days
        ("8100000000000016", "not_shipped"),  # 3-day handling time, paid 6 days ago
    ]
    assert len(SITUATIONS) == 18


@pytest.mark.parametrize("days_later", [0, 2, 10, 40, 100])
def test_explain_at_a_time_predicts_exactly_what_a_sweep_then_stores(services, store, engine, days_later):
    store.load(demo_payload(NOW))
    at = later(days=days_later)
    ids = [r["id"] for r in store.rows(db.orders)]
    predicted = {oid: services.explain(oid, at=at, record=False, customer_id=OPERATOR).order for oid in ids}

    services.sweep(at=at)
    with UnitOfWork(engine) as uow:
        stored = {oid: uow.orders.get(oid) for oid in ids}
    assert stored == predicted


def test_a_request_applies_the_transitions_that_were_due_before_deciding(services, store):
    store.orders(order_record("1000000001", placed_at=ago(10), paid_at=ago(10), handling_days=3))
    out = services.request_cancellation("1000000001", "other", channel="rest", customer_id=OPERATOR)

    assert (out.filed, out.rule) == (False, "cancel.closed")
    assert store.order("1000000001")["closed_reason"] == "not_shipped_in_time"
    assert [(r["rule"], r["actor"]) for r in transitions(store)] == [("not_shipped", "bot:rest")]
    assert store.refund("1000000001") is not None
    assert services.sweep() == []  # nothing left for the sweep
