"""The services: each one transaction, the policy deciding, filing idempotent, bad input answered clearly.

Every test here runs on SQLite and on PostgreSQL (the `engine` fixture).
"""
from __future__ import annotations

import json
from datetime import timedelta, timezone
from decimal import Decimal

import pytest

from orderdesk import db, runtime
from orderdesk.repository import AuditLog, UnitOfWork
from orderdesk.services import (
    OPERATOR,
    InvalidInput,
    NotYourOrder,
    OrderNotFound,
    Services,
    StoreUnavailable,
    normalize_order_id,
)
from orderdesk.verification import Verification
from orderdesk.wording import answer_text as said
from support import NOW, ago, later, order_record, shipped_record

UNPAID = "1000000001"
PAID = "1000000002"  # paid two days ago, not shipped: cancellation needs the seller
CHECKING = "1000000003"  # paid three hours ago: payment still being checked
SHIPPED = "1000000004"  # shipped five days ago
OTHERS = "2000000001"  # belongs to customer c2


@pytest.fixture
def orders(store):
    store.orders(
        order_record(UNPAID, "awaiting_payment", placed_at=ago(2), amount="24.99"),
        order_record(PAID, "awaiting_shipment", placed_at=ago(2), paid_at=ago(2), amount="31.00"),
        order_record(CHECKING, "payment_processing", placed_at=ago(hours=3), paid_at=ago(hours=3)),
        shipped_record(SHIPPED, amount="19.50"),
        order_record(OTHERS, "awaiting_shipment", customer="c2"),
    )
    return store


def details(rows):
    return [json.loads(r["detail"]) for r in rows]


# --------------------------------------------------------------------------- cancellation

def test_cancelling_an_unpaid_order_closes_it_at_once_with_nothing_to_refund(services, orders):
    out = services.request_cancellation(UNPAID, "duplicate_order", customer_id="c1", channel="rest")

    assert (out.filed, out.created, out.state) == (True, True, "approved")
    assert out.reference == f"CXL-{UNPAID}"
    assert out.decision.status.value == "closed"
    row = orders.order(UNPAID)
    assert (row["status"], row["closed_reason"], row["closed_at"]) == ("closed", "buyer_cancelled", NOW)
    assert orders.cancellation(UNPAID)["reason"] == "duplicate_order"
    assert orders.refund(UNPAID) is None


def test_cancelling_a_paid_order_files_a_request_for_the_seller_with_its_reason(services, orders):
    out = services.request_cancellation(PAID, "wrong_product", customer_id="c1", channel="telegram")

    assert (out.filed, out.created, out.state, out.rule) == (True, True, "pending", "cancel.request_seller")
    assert out.decision.cancel.rule == "cancel.request_pending"
    assert out.decision.cancel.deadline == NOW + timedelta(hours=72)
    row = orders.cancellation(PAID)
    assert row == {**row, "reference": f"CXL-{PAID}", "reason": "wrong_product", "state": "pending",
                   "requested_at": NOW, "responded_at": None, "channel": "telegram"}
    assert orders.order(PAID)["status"] == "awaiting_shipment"
    filed = orders.audit(db.audit_log.c.order_id == PAID, db.audit_log.c.kind == "request")
    assert details(filed) == [{"request": "cancellation", "result": "filed", "reference": f"CXL-{PAID}",
                               "reason": "wrong_product"}]
    assert filed[0]["actor"] == "bot:telegram"


def test_second_cancellation_request_returns_the_first(services, orders):
    first = services.request_cancellation(PAID, "wrong_product", customer_id="c1")
    again = services.request_cancellation(PAID, "wrong_product", customer_id="c1")

    assert (again.filed, again.created, again.reference, again.state) == (True, False, first.reference, "pending")
    assert orders.count(db.cancellation_requests) == 1
    assert len(orders.audit(db.audit_log.c.kind == "request")) == 1


def test_second_cancellation_request_with_another_reason_still_returns_the_first(services, orders):
    first = services.request_cancellation(PAID, "wrong_product", customer_id="c1")
    again = services.request_cancellation(PAID, "other", customer_id="c1")

    assert (again.created, again.reference) == (False, first.reference)
    assert orders.cancellation(PAID)["reason"] == "wrong_product"


def test_cancellation_of_a_shipped_order_is_refused_with_the_policy_decision(services, orders):
    out = services.request_cancellation(SHIPPED, "other", customer_id="c1")

    assert (out.filed, out.created, out.reference, out.rule) == (False, False, None, "cancel.shipped")
    assert out.refused
    assert "shipped" in said(out.decision, "cancel")
    assert orders.cancellation(SHIPPED) is None
    refused = orders.audit(db.audit_log.c.kind == "request")
    assert [(r["order_id"], r["rule"]) for r in refused] == [(SHIPPED, "cancel.shipped")]
    assert details(refused)[0]["result"] == "refused"


def test_cancellation_during_the_payment_check_is_refused_until_the_button_appears(services, orders):
    out = services.request_cancellation(CHECKING, "other", customer_id="c1")

    assert (out.filed, out.rule) == (False, "cancel.payment_check")
    assert out.decision.cancel.deadline == ago(hours=3) + timedelta(hours=24)
    assert orders.cancellation(CHECKING) is None


def test_cancellation_with_an_unknown_reason_is_refused_clearly_and_writes_nothing(services, orders):
    before = orders.totals()
    with pytest.raises(InvalidInput, match="Unknown cancellation reason 'changed_my_mind'.*wrong_product"):
        services.request_cancellation(PAID, "changed_my_mind", customer_id="c1")
    assert orders.totals() == before


def test_cancellation_requested_in_another_timezone_is_stored_in_utc(services, orders):
    in_moscow = NOW.astimezone(timezone(timedelta(hours=3)))
    services.request_cancellation(PAID, "other", at=in_moscow, customer_id=OPERATOR)
    assert orders.cancellation(PAID)["requested_at"] == NOW
    assert orders.cancellation(PAID)["requested_at"].tzinfo is not None


def test_a_time_without_a_timezone_is_refused(services, orders):
    with pytest.raises(InvalidInput, match="timezone"):
        services.request_cancellation(PAID, "other", at=NOW.replace(tzinfo=None), customer_id=OPERATOR)
    assert orders.cancellation(PAID) is None


def test_a_request_that_fails_half_way_leaves_nothing_behind(services, orders, monkeypatch):
    def broken_audit(self, **kw):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(AuditLog, "record", broken_audit)
    before = orders.totals()
    with pytest.raises(RuntimeError):
        services.request_cancellation(UNPAID, "other", customer_id=OPERATOR)
    assert orders.totals() == before
    assert orders.order(UNPAID)["status"] == "awaiting_payment"


# --------------------------------------------------------------------------- the seller's answer

def test_seller_approval_closes_the_order_and_schedules_the_refund(services, orders):
    services.request_cancellation(PAID, "wrong_product", at=ago(hours=1), customer_id=OPERATOR)
    out = services.seller_respond(PAID, approve=True, operator=OPERATOR)

    assert (out.filed, out.state, out.rule, out.reference) == (True, "approved", "seller.approved", f"CXL-{PAID}")
    order = orders.order(PAID)
    assert (order["status"], order["closed_reason"], order["closed_at"]) == ("closed", "cancellation_approved", NOW)
    assert orders.cancellation(PAID)["responded_at"] == NOW
    refund = orders.refund(PAID)
    assert refund == {**refund, "amount": Decimal("31.00"), "currency": "USD", "destination": "card",
                      "state": "pending", "created_at": NOW, "expected_by": NOW + timedelta(days=20)}
    assert out.decision.refund.rule == "refund.in_progress"


def test_seller_rejection_needs_a_tracking_number(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=1), customer_id=OPERATOR)
    with pytest.raises(InvalidInput, match="tracking number"):
        services.seller_respond(PAID, approve=False, operator=OPERATOR)
    with pytest.raises(InvalidInput, match="tracking number"):
        services.seller_respond(PAID, approve=False, tracking_number="   ", operator=OPERATOR)
    assert orders.cancellation(PAID)["state"] == "pending"


def test_seller_rejection_with_a_malformed_tracking_number_is_refused(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=1), customer_id=OPERATOR)
    with pytest.raises(InvalidInput, match="is not a tracking number"):
        services.seller_respond(PAID, approve=False, tracking_number="RB 123; DROP TABLE orders", operator=OPERATOR)
    assert orders.cancellation(PAID)["state"] == "pending"


def test_seller_rejection_with_a_tracking_number_marks_the_order_shipped(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=1), customer_id=OPERATOR)
    out = services.seller_respond(PAID, approve=False, tracking_number="RB123456789CN", operator=OPERATOR)

    assert (out.filed, out.state, out.rule) == (True, "rejected", "seller.rejected")
    order = orders.order(PAID)
    assert (order["status"], order["tracking_number"], order["shipped_at"]) == ("awaiting_delivery",
                                                                               "RB123456789CN", NOW)
    assert orders.cancellation(PAID)["tracking_number"] == "RB123456789CN"
    assert out.decision.cancel.rule == "cancel.rejected"
    assert orders.refund(PAID) is None


def test_a_rejected_cancellation_is_not_filed_again(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=2), customer_id=OPERATOR)
    services.seller_respond(PAID, approve=False, tracking_number="RB123456789CN", at=ago(hours=1), operator=OPERATOR)
    again = services.request_cancellation(PAID, "other", customer_id=OPERATOR)

    assert (again.filed, again.created, again.state) == (True, False, "rejected")
    assert again.decision.cancel.rule == "cancel.rejected"
    assert orders.count(db.cancellation_requests) == 1


def test_second_seller_answer_is_refused_and_refunds_once(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=2), customer_id=OPERATOR)
    services.seller_respond(PAID, approve=True, at=ago(hours=1), operator=OPERATOR)
    again = services.seller_respond(PAID, approve=True, operator=OPERATOR)

    assert (again.filed, again.rule, again.state) == (False, "seller.already_approved", "approved")
    assert orders.count(db.refunds) == 1


def test_seller_answer_without_a_request_is_refused(services, orders):
    out = services.seller_respond(PAID, approve=True, operator=OPERATOR)
    assert (out.filed, out.rule, out.state) == (False, "seller.no_request", None)
    assert orders.order(PAID)["status"] == "awaiting_shipment"


def test_seller_answer_after_72_hours_finds_the_request_approved_automatically(services, orders):
    services.request_cancellation(PAID, "other", at=ago(hours=1), customer_id=OPERATOR)
    out = services.seller_respond(PAID, approve=False, tracking_number="RB123456789CN", at=later(hours=71),
                                  operator=OPERATOR)

    assert (out.filed, out.rule, out.state) == (False, "seller.already_auto_approved", "auto_approved")
    order = orders.order(PAID)
    assert (order["status"], order["closed_reason"]) == ("closed", "seller_no_response")
    assert order["closed_at"] == later(hours=71)
    assert orders.refund(PAID)["reason"] == "seller_silent"


# --------------------------------------------------------------------------- disputes

def test_full_refund_dispute_on_a_shipped_order_is_filed_for_the_order_amount(services, orders):
    out = services.open_dispute(SHIPPED, reason="tracking_stalled", description="No update for 3 weeks.",
                                customer_id="c1", channel="rest")

    assert (out.filed, out.created, out.state, out.rule) == (True, True, "open", "dispute.in_transit")
    assert out.reference == f"DSP-{SHIPPED}"
    row = orders.dispute(SHIPPED)
    assert row == {**row, "reason": "tracking_stalled", "refund": "full", "amount": Decimal("19.50"),
                   "description": "No update for 3 weeks.", "state": "open", "opened_at": NOW, "channel": "rest"}
    assert out.decision.dispute.rule == "dispute.open"
    assert out.decision.dispute.deadline == NOW + timedelta(days=16)


@pytest.mark.parametrize("typed, stored", [("10", "10.00"), ("7,50", "7.50"), ("$ 19.50", "19.50")])
def test_partial_refund_dispute_stores_the_amount_asked_for(services, orders, typed, stored):
    out = services.open_dispute(SHIPPED, reason="not_as_described", refund="partial", amount=typed,
                                customer_id=OPERATOR)
    assert out.filed
    assert orders.dispute(SHIPPED)["amount"] == Decimal(stored)
    assert orders.dispute(SHIPPED)["refund"] == "partial"


@pytest.mark.parametrize("amount, message", [
    ("19.51", "at most 19.50 USD"),
    ("0", "more than 0"),
    ("-5", "more than 0"),
    ("lots", "is not an amount"),
    (None, "is not an amount"),
])
def test_partial_refund_dispute_with_a_bad_amount_is_refused_clearly(services, orders, amount, message):
    with pytest.raises(InvalidInput, match=message):
        services.open_dispute(SHIPPED, reason="not_as_described", refund="partial", amount=amount, customer_id=OPERATOR)
    assert orders.dispute(SHIPPED) is None


def test_dispute_with_an_unknown_reason_or_refund_kind_is_refused_clearly(services, orders):
    with pytest.raises(InvalidInput, match="Unknown dispute reason 'angry'"):
        services.open_dispute(SHIPPED, reason="angry", customer_id=OPERATOR)
    with pytest.raises(InvalidInput, match="'full' or 'partial'"):
        services.open_dispute(SHIPPED, reason="damaged", refund="half", customer_id=OPERATOR)
    assert orders.dispute(SHIPPED) is None


def test_a_dispute_description_over_the_limit_is_refused_with_its_length_and_nothing_is_filed(services, orders):
    with pytest.raises(InvalidInput, match="10,000 characters; at most 2,000"):
        services.open_dispute(SHIPPED, reason="damaged", description=("The parcel arrived open. " * 400)[:9_999] + "!",
                              refund="partial", amount="9.99", customer_id="c1")
    with pytest.raises(InvalidInput, match="2,001 characters"):
        services.open_dispute(SHIPPED, reason="damaged", description="x" * 2001, customer_id=OPERATOR)
    assert orders.dispute(SHIPPED) is None
    assert orders.audit(db.audit_log.c.kind == "request") == []

    services.open_dispute(SHIPPED, reason="damaged", description="y" * 2000, customer_id=OPERATOR)
    assert orders.dispute(SHIPPED)["description"] == "y" * 2000


def test_second_dispute_returns_the_first(services, orders):
    first = services.open_dispute(SHIPPED, reason="damaged", description="Cracked screen.", customer_id=OPERATOR)
    again = services.open_dispute(SHIPPED, reason="counterfeit", description="Actually fake.", refund="partial",
                                  amount="5", customer_id=OPERATOR)

    assert (again.filed, again.created, again.reference, again.state) == (True, False, first.reference, "open")
    assert orders.count(db.disputes) == 1
    assert orders.dispute(SHIPPED)["reason"] == "damaged"


def test_dispute_before_shipping_is_refused_with_the_policy_decision(services, orders):
    out = services.open_dispute(PAID, reason="not_received", customer_id=OPERATOR)
    assert (out.filed, out.rule) == (False, "dispute.not_shipped")
    assert "cancel" in said(out.decision, "dispute")
    assert orders.dispute(PAID) is None


def test_a_description_with_nul_characters_is_stored_without_them(services, orders):
    services.open_dispute(SHIPPED, reason="damaged", description="pasted\x00 from a file", customer_id=OPERATOR)
    assert orders.dispute(SHIPPED)["description"] == "pasted from a file"


def test_escalating_an_open_dispute_hands_it_to_the_platform(services, orders):
    services.open_dispute(SHIPPED, reason="damaged", at=ago(3), customer_id=OPERATOR)
    out = services.escalate_dispute(SHIPPED, customer_id="c1")

    assert (out.filed, out.created, out.state, out.reference) == (True, True, "escalated", f"DSP-{SHIPPED}")
    row = orders.dispute(SHIPPED)
    assert (row["state"], row["escalated_at"], row["escalated_by"]) == ("escalated", NOW, "buyer")
    assert out.decision.dispute.rule == "dispute.escalated"


def test_escalating_twice_returns_the_escalation_already_filed(services, orders):
    services.open_dispute(SHIPPED, reason="damaged", at=ago(3), customer_id=OPERATOR)
    services.escalate_dispute(SHIPPED, at=ago(1), customer_id=OPERATOR)
    again = services.escalate_dispute(SHIPPED, customer_id=OPERATOR)

    assert (again.filed, again.created, again.state) == (True, False, "escalated")
    assert orders.dispute(SHIPPED)["escalated_at"] == ago(1)
    assert len(orders.audit(db.audit_log.c.rule == "dispute.open", db.audit_log.c.kind == "request")) == 1


def test_escalating_without_a_dispute_is_refused(services, orders):
    out = services.escalate_dispute(SHIPPED, customer_id=OPERATOR)
    assert (out.filed, out.state) == (False, None)
    assert orders.dispute(SHIPPED) is None


def test_a_dispute_left_open_16_days_is_already_escalated_when_the_buyer_asks(services, orders):
    services.open_dispute(SHIPPED, reason="damaged", at=ago(20), customer_id=OPERATOR)
    out = services.escalate_dispute(SHIPPED, customer_id=OPERATOR)

    assert (out.filed, out.created, out.state) == (True, False, "escalated")
    row = orders.dispute(SHIPPED)
    assert (row["escalated_at"], row["escalated_by"]) == (ago(4), None)


# --------------------------------------------------------------------------- receipt

def test_confirming_receipt_completes_the_order(services, orders):
    out = services.confirm_receipt(SHIPPED, customer_id="c1")

    assert (out.filed, out.created, out.state) == (True, True, "completed")
    row = orders.order(SHIPPED)
    assert (row["status"], row["confirmed_at"], row["completed_reason"]) == ("completed", NOW, "confirmed")
    assert out.decision.return_.rule == "return.after_confirmation"


def test_confirming_receipt_twice_returns_the_first_confirmation(services, orders):
    services.confirm_receipt(SHIPPED, at=ago(1), customer_id=OPERATOR)
    again = services.confirm_receipt(SHIPPED, customer_id=OPERATOR)

    assert (again.filed, again.created, again.rule) == (True, False, "receipt.already_confirmed")
    assert orders.order(SHIPPED)["confirmed_at"] == ago(1)


def test_confirming_receipt_of_an_order_not_shipped_is_refused(services, orders):
    out = services.confirm_receipt(PAID, customer_id=OPERATOR)
    assert (out.filed, out.rule, out.state) == (False, "receipt.not_in_transit", "awaiting_shipment")
    assert orders.order(PAID)["confirmed_at"] is None


def test_confirming_receipt_while_a_dispute_is_open_is_refused(services, orders):
    services.open_dispute(SHIPPED, reason="not_received", description="Nothing came.", customer_id=OPERATOR)
    out = services.confirm_receipt(SHIPPED, customer_id=OPERATOR)
    assert (out.filed, out.rule) == (False, "receipt.dispute_open")
    assert orders.order(SHIPPED)["status"] == "awaiting_delivery"


# --------------------------------------------------------------------------- explain

def test_explain_gives_four_answers_and_records_the_decision(services, orders):
    d = services.explain(PAID, customer_id="c1", actor="bot:rest")

    assert set(d.answers()) == {"cancel", "refund", "dispute", "return"}
    assert d.cancel.rule == "cancel.request_seller" and d.cancel.allowed
    assert d.cancel.deadline == ago(2) + timedelta(hours=24) + timedelta(days=7)
    [row] = orders.audit(db.audit_log.c.kind == "decision")
    assert (row["order_id"], row["actor"], row["at"], row["effective_at"]) == (PAID, "bot:rest", NOW, NOW)
    assert details([row]) == [{"status": "awaiting_shipment",
                               "rules": {q: a.rule for q, a in d.answers().items()}}]


def test_explain_at_a_later_time_gives_the_effective_status_without_changing_the_store(services, orders):
    d = services.explain(UNPAID, at=ago(2) + timedelta(days=20), customer_id=OPERATOR)

    assert d.status.value == "closed"
    assert d.cancel.rule == "cancel.closed"
    assert orders.order(UNPAID)["status"] == "awaiting_payment"
    assert orders.audit(db.audit_log.c.kind == "transition") == []
    [asked] = orders.audit(db.audit_log.c.kind == "decision")
    assert (asked["at"], asked["effective_at"]) == (NOW, ago(2) + timedelta(days=20))


def test_explain_just_before_the_deadline_still_gives_the_old_status(services, orders):
    d = services.explain(UNPAID, at=ago(2) + timedelta(days=20) - timedelta(seconds=1), customer_id=OPERATOR)
    assert d.status.value == "awaiting_payment"
    assert d.cancel.allowed


def test_explain_without_recording_writes_nothing(services, orders):
    before = orders.totals()
    services.explain(PAID, record=False, customer_id=OPERATOR)
    assert orders.totals() == before


# --------------------------------------------------------------------------- bad input

MALFORMED = ["abc", "12345", "1" * 20, "", None, "12345678'; DROP TABLE orders;--", "١٠٠٠٠٠٠٠٠٢"]


@pytest.mark.parametrize("raw", MALFORMED)
def test_malformed_order_number_is_refused_clearly(services, orders, raw):
    before = orders.totals()
    with pytest.raises(InvalidInput, match="is not an order number: order numbers are 6 to 19 digits"):
        services.request_cancellation(raw, "other", customer_id=OPERATOR)
    with pytest.raises(InvalidInput):
        services.explain(raw, customer_id=OPERATOR)
    assert orders.totals() == before


def test_order_number_typed_with_spaces_hash_or_dashes_is_understood(services, orders):
    assert normalize_order_id(" #1000-000 002 ") == PAID
    assert normalize_order_id("".join(chr(ord(c) + 0xFEE0) for c in PAID)) == PAID  # full-width digits
    assert services.explain("# 1000 000 002", customer_id=OPERATOR).order.id == PAID


def test_unknown_order_is_reported_by_number(services, orders):
    with pytest.raises(OrderNotFound, match="There is no order 9999999999"):
        services.request_cancellation("9999999999", "other", customer_id=OPERATOR)


SERVICE_CALLS = {
    "explain": lambda s, oid: s.explain(oid, customer_id="c1"),
    "request_cancellation": lambda s, oid: s.request_cancellation(oid, "other", customer_id="c1"),
    "open_dispute": lambda s, oid: s.open_dispute(oid, reason="damaged", customer_id="c1"),
    "escalate_dispute": lambda s, oid: s.escalate_dispute(oid, customer_id="c1"),
    "confirm_receipt": lambda s, oid: s.confirm_receipt(oid, customer_id="c1"),
}


@pytest.mark.parametrize("call", SERVICE_CALLS.values(), ids=SERVICE_CALLS.keys())
def test_someone_elses_order_and_an_unknown_one_are_refused_alike_and_left_untouched(services, orders, call):
    before = orders.totals()
    errors = []
    for oid in (OTHERS, "9999999999"):
        with pytest.raises(NotYourOrder) as e:
            call(services, oid)
        errors.append(str(e.value).replace(oid, "N"))
    assert errors == ["There is no order N on this account."] * 2
    assert orders.totals() == before


ANONYMOUS_CALLS = {
    "explain": lambda s, who: s.explain(PAID, customer_id=who),
    "request_cancellation": lambda s, who: s.request_cancellation(PAID, "other", customer_id=who),
    "open_dispute": lambda s, who: s.open_dispute(SHIPPED, reason="damaged", customer_id=who),
    "escalate_dispute": lambda s, who: s.escalate_dispute(SHIPPED, customer_id=who),
    "confirm_receipt": lambda s, who: s.confirm_receipt(SHIPPED, customer_id=who),
    "seller_respond": lambda s, who: s.seller_respond(PAID, operator=who, approve=True),
}


@pytest.mark.parametrize("call", ANONYMOUS_CALLS.values(), ids=ANONYMOUS_CALLS.keys())
def test_no_service_reads_or_changes_an_order_for_nobody(services, orders, call):
    # "No customer" used to mean "skip the owner check"; now it is refused, and so is a buyer entering a
    # seller's answer. The CLI acts as an explicit operator.
    before = orders.totals()
    for who in (None, "", 0):
        with pytest.raises(NotYourOrder):
            call(services, who)
    with pytest.raises(NotYourOrder):
        services.seller_respond(PAID, operator="c1", approve=True)
    assert orders.totals() == before


def test_orders_are_listed_only_for_a_customer(services, orders):
    for who in (None, "", OPERATOR):
        with pytest.raises(NotYourOrder):
            services.orders_for_question(who, "cancel")


def test_the_acting_customer_is_a_required_argument_of_every_order_service():
    import inspect

    for name in ("explain", "request_cancellation", "open_dispute", "escalate_dispute", "confirm_receipt"):
        param = inspect.signature(getattr(Services, name)).parameters["customer_id"]
        assert param.default is inspect.Parameter.empty, name
    assert inspect.signature(Services.seller_respond).parameters["operator"].default is inspect.Parameter.empty


def test_a_linked_chat_is_the_customers_and_any_other_is_a_strangers(services, orders):
    assert services.customer_for_chat("rest", "chat-c1") == "c1"
    assert services.customer_for_chat("rest", "a-stranger") is None
    assert services.customer_for_chat("telegram", "chat-c1") is None


def test_orders_for_a_question_put_the_ones_it_is_about_first(services, orders):
    ranked = services.orders_for_question("c1", "cancel")

    # cancellable now (both placed two days ago: by number), then not shipped yet, then the rest
    assert [(c.order.id, c.relevant) for c in ranked] == [
        (UNPAID, True), (PAID, True), (CHECKING, True), (SHIPPED, False)]
    assert OTHERS not in [c.order.id for c in ranked]
    assert services.orders_for_question("nobody", "cancel") == []


def test_orders_for_a_status_question_are_every_order_newest_first(services, orders):
    ranked = services.orders_for_question("c1", "status")

    placed = [c.order.placed_at for c in ranked]
    assert placed == sorted(placed, reverse=True) and len(ranked) == 4
    assert ranked[0].order.id == CHECKING  # placed three hours ago
    assert all(c.relevant for c in ranked)


def test_orders_for_a_question_are_judged_as_of_now_without_saving_anything(services, store):
    store.orders(order_record(PAID, cancellation={"requested_at": ago(hours=73), "state": "pending",
                                                  "reason": "wrong_product"}),
                 order_record(UNPAID, "awaiting_payment", placed_at=ago(1)))
    before = store.totals()

    ranked = services.orders_for_question("c1", "refund_status")

    # the seller was silent for 72 hours: cancelled, and a refund is owed
    assert [(c.order.id, c.relevant) for c in ranked] == [(PAID, True), (UNPAID, False)]
    assert (ranked[0].order.status.value, ranked[0].order.closed_reason.value) == ("closed", "seller_no_response")
    assert store.order(PAID)["status"] == "awaiting_shipment"  # the sweep (or a service that files) saves it
    assert store.totals() == before


def test_orders_for_a_question_look_at_the_most_recent_orders_only(services, store):
    store.orders(order_record("1000000011", placed_at=ago(1), paid_at=ago(1)), order_record("1000000012"),
                 shipped_record("1000000013", placed_at=ago(30), paid_at=ago(30), cancellation={
                     "requested_at": ago(8), "state": "rejected", "responded_at": ago(7),
                     "tracking_number": "LP00123456789012"}))

    ranked = services.orders_for_question("c1", "cancellation_rejected", limit=2)

    assert [(c.order.id, c.relevant) for c in ranked] == [("1000000011", False), ("1000000012", False)]
    ranked = services.orders_for_question("c1", "cancellation_rejected")
    assert [(c.order.id, c.relevant) for c in ranked][0] == ("1000000013", True)


def test_recent_orders_are_the_same_snapshots_as_loading_each_order(engine, store):
    store.orders(
        order_record(PAID, cancellation={"requested_at": ago(1), "state": "pending", "reason": "other"}),
        shipped_record(SHIPPED, dispute={"opened_at": ago(1), "state": "open", "reason": "damaged",
                                         "refund": "partial", "amount": "5.00", "description": "cracked"}),
        order_record(UNPAID, "awaiting_payment", placed_at=ago(hours=1)),
        order_record(OTHERS, customer="c2"),
    )
    with UnitOfWork(engine) as uow:
        recent = uow.orders.recent_orders("c1")
        one_by_one = [uow.orders.get(o.id) for o in recent]

    assert [o.id for o in recent] == [UNPAID, PAID, SHIPPED]
    assert recent == one_by_one
    assert recent[1].cancellation.state.value == "pending"
    assert recent[2].dispute.amount == Decimal("5.00")


def test_handoff_is_recorded_with_its_transcript(services, orders):
    ref = services.record_handoff(channel="rest", sender_id="chat-c1", transcript="user: help\nbot: ...",
                                  customer_id="c1", order_id=PAID)
    assert ref.startswith("HND-20261122-")
    row = orders.row(db.handoff_requests)
    assert (row["order_id"], row["state"], row["transcript"]) == (PAID, "open", "user: help\nbot: ...")


def test_lines_join_the_handoff_transcript_only_from_its_own_conversation(services, orders):
    ref = services.record_handoff(channel="rest", sender_id="chat-c1", transcript="user: help", customer_id="c1")

    assert services.add_to_handoff(ref, "buyer: any news?", channel="rest", sender_id="chat-c1")
    assert not services.add_to_handoff(ref, "buyer: forged", channel="rest", sender_id="chat-c2")
    assert orders.row(db.handoff_requests)["transcript"] == "user: help\nbuyer: any news?"


def test_handoff_transcript_with_nul_characters_is_stored_without_them(services, orders):
    services.record_handoff(channel="rest", sender_id="chat\x00-c1", transcript="user: \x00hi")
    row = orders.row(db.handoff_requests)
    assert (row["sender_id"], row["transcript"]) == ("chat-c1", "user: hi")


def test_handoff_about_an_unknown_order_is_still_recorded(services, orders):
    services.record_handoff(channel="rest", sender_id="x", transcript="t", order_id="9999999999")
    assert orders.row(db.handoff_requests)["order_id"] is None


def test_filed_requests_are_listed_newest_first(services, orders):
    services.request_cancellation(PAID, "other", at=ago(3), customer_id=OPERATOR)
    services.open_dispute(SHIPPED, reason="damaged", at=ago(1), customer_id=OPERATOR)
    services.request_cancellation(UNPAID, "other", at=ago(2), customer_id=OPERATOR)
    services.record_handoff(channel="rest", sender_id="s", transcript="t", at=ago(hours=1))

    rows = services.requests()
    assert [(r["kind"], r["order_id"]) for r in rows] == [
        ("handoff", None), ("dispute", SHIPPED), ("cancellation", UNPAID), ("cancellation", PAID)]
    assert [r["filed_at"] for r in rows] == [ago(hours=1), ago(1), ago(2), ago(3)]
    assert all(set(r) == {"reference", "order_id", "kind", "state", "filed_at"} for r in rows)


# --------------------------------------------------------------------------- the database is down

def unreachable_postgres(tmp_path):
    return "postgresql://postgres@127.0.0.1:1/x"


def unwritable_sqlite(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    return f"sqlite:///{blocker / 'orderdesk.db'}"


DOWN = {"unreachable-postgres": unreachable_postgres, "unwritable-sqlite": unwritable_sqlite}
EVERY_SERVICE = {
    "explain": lambda s: s.explain(PAID, customer_id=OPERATOR),
    "request_cancellation": lambda s: s.request_cancellation(PAID, "other", customer_id=OPERATOR),
    "seller_respond": lambda s: s.seller_respond(PAID, approve=True, operator=OPERATOR),
    "open_dispute": lambda s: s.open_dispute(SHIPPED, reason="damaged", customer_id=OPERATOR),
    "escalate_dispute": lambda s: s.escalate_dispute(SHIPPED, customer_id=OPERATOR),
    "confirm_receipt": lambda s: s.confirm_receipt(SHIPPED, customer_id=OPERATOR),
    "sweep": lambda s: s.sweep(),
    "requests": lambda s: s.requests(),
    "customer_for_chat": lambda s: s.customer_for_chat("rest", "chat-c1"),
    "orders_for_question": lambda s: s.orders_for_question("c1", "cancel"),
    "verify": lambda s: Verification(s.uow, s.clock).verify(PAID, "c1@example.com", conversation="rest:x",
                                                            session="s1"),
    "record_handoff": lambda s: s.record_handoff(channel="rest", sender_id="s", transcript="t"),
}


@pytest.mark.parametrize("url", DOWN.values(), ids=DOWN.keys())
@pytest.mark.parametrize("call", EVERY_SERVICE.values(), ids=EVERY_SERVICE.keys())
def test_a_database_that_is_down_gives_store_unavailable(tmp_path, clock, url, call):
    engine = db.make_engine(url(tmp_path))
    services = Services(uow=lambda: UnitOfWork(engine), clock=clock)
    try:
        with pytest.raises(StoreUnavailable, match="not reachable right now; nothing was changed") as e:
            call(services)
        assert "SELECT" not in str(e.value) and "INSERT" not in str(e.value)
        assert e.value.code == "store_unavailable"
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", DOWN.values(), ids=DOWN.keys())
def test_runtime_services_on_a_database_that_is_down_names_it_clearly(tmp_path, url):
    target = url(tmp_path)
    with pytest.raises(StoreUnavailable) as e:
        runtime.services(target)
    message = str(e.value)
    assert message.startswith(f"The order database at {target} is not reachable (")
    assert "nothing was changed" in message and "ORDERDESK_DATABASE_URL" in message
    db.dispose_engines()
