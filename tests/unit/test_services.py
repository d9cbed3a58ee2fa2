"""The services on an in-memory unit of work: the same behaviours as tests/store/test_services.py,
in milliseconds and without a database. The store tests keep the parts only a database can show
(SQL, UTC storage, races, migrations)."""
from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from unit.fakes import FakeStore
from orderdesk.model import Order, PaymentMethod, Status
from orderdesk.services import OPERATOR, InvalidInput, NotYourOrder, OrderNotFound, Services, StoreUnavailable
from support import NOW, ago, later

UNPAID, PAID, SHIPPED, OTHERS = "1000000001", "1000000002", "1000000004", "2000000001"


def order(oid: str, status: Status = Status.AWAITING_SHIPMENT, **changes) -> Order:
    base = Order(id=oid, customer="c1", seller="s1", item="USB-C cable", amount=Decimal("20.00"), currency="USD",
                 status=status, placed_at=ago(2), payment_method=PaymentMethod.CARD, paid_at=ago(2),
                 handling_days=7, delivery_days=60)
    if status is Status.AWAITING_PAYMENT:
        base = replace(base, paid_at=None, payment_method=None)
    if status is Status.AWAITING_DELIVERY:
        base = replace(base, placed_at=ago(10), paid_at=ago(10), shipped_at=ago(5), tracking_number="LP00123456789012")
    return replace(base, **changes)


@pytest.fixture
def store() -> FakeStore:
    s = FakeStore()
    with s.uow() as uow:
        uow.customers.put("c1", email="c1@example.com", name="Customer c1")
        uow.customers.put("c2", email="c2@example.com", name="Customer c2")
        uow.customers.set_chat_ids("c1", {"rest": "chat-c1"})
        for o in (order(UNPAID, Status.AWAITING_PAYMENT), order(PAID), order(SHIPPED, Status.AWAITING_DELIVERY),
                  order(OTHERS, customer="c2")):
            uow.orders.save_order(o, NOW)
        uow.commit()
    s.commits = 0
    return s


@pytest.fixture
def services(store) -> Services:
    return Services(uow=store.uow, clock=lambda: NOW)


def table(store: FakeStore, name: str):
    return store.tables[name]


def add_cancellation(store: FakeStore, oid: str, requested_at, state: str = "pending") -> None:
    with store.uow() as uow:
        uow.cancellations.add(reference=f"CXL-{oid}", order_id=oid, reason="other", state=state,
                              requested_at=requested_at, responded_at=None, channel="rest")
        uow.commit()


# --------------------------------------------------------------------------- cancellation

def test_cancelling_an_unpaid_order_closes_it_at_once_with_nothing_to_refund(services, store):
    out = services.request_cancellation(UNPAID, "duplicate_order", customer_id="c1", channel="rest")

    assert (out.filed, out.created, out.state, out.reference) == (True, True, "approved", f"CXL-{UNPAID}")
    assert out.decision.status is Status.CLOSED
    assert table(store, "orders")[UNPAID].status is Status.CLOSED
    assert table(store, "cancellations")[UNPAID]["reason"] == "duplicate_order"
    assert table(store, "refunds") == {}


def test_cancelling_a_paid_order_files_one_request_and_a_second_call_returns_it(services, store):
    first = services.request_cancellation(PAID, "out_of_stock", customer_id="c1", channel="rest")
    second = services.request_cancellation(PAID, "other", customer_id="c1", channel="rest")

    assert (first.created, first.state, first.decision.cancel.rule) == (True, "pending", "cancel.request_pending")
    assert (second.filed, second.created, second.reference) == (True, False, f"CXL-{PAID}")
    assert table(store, "cancellations")[PAID]["reason"] == "out_of_stock"
    assert [a["detail"].get("result") for a in table(store, "audit")] == ["filed"]


def test_a_refused_cancellation_is_audited_and_files_nothing(services, store):
    out = services.request_cancellation(SHIPPED, "other", customer_id="c1", channel="rest")

    assert (out.refused, out.rule) == (True, "cancel.shipped")
    assert table(store, "cancellations") == {}
    assert [(a["rule"], a["detail"]["result"]) for a in table(store, "audit")] == [("cancel.shipped", "refused")]


def test_a_cancellation_someone_filed_in_between_is_returned_not_filed_twice(services, store, monkeypatch):
    add_cancellation(store, PAID, ago(hours=1))
    with store.uow() as uow:
        repo = type(uow.orders)
    real_get, calls = repo.get, []

    def read_before_the_other_insert(self, oid, for_update=False):
        calls.append(oid)
        o = real_get(self, oid)
        return replace(o, cancellation=None) if len(calls) == 1 else o

    monkeypatch.setattr(repo, "get", read_before_the_other_insert)

    out = services.request_cancellation(PAID, "other", customer_id="c1", channel="rest")

    assert (out.filed, out.created, out.reference) == (True, False, f"CXL-{PAID}")
    assert len(table(store, "cancellations")) == 1


def test_bad_input_is_refused_before_the_store_is_touched(services, store):
    with pytest.raises(InvalidInput, match="Unknown cancellation reason 'because'"):
        services.request_cancellation(PAID, "because", customer_id=OPERATOR)
    with pytest.raises(InvalidInput, match="times must carry a timezone"):
        services.request_cancellation(PAID, "other", at=NOW.replace(tzinfo=None), customer_id=OPERATOR)
    with pytest.raises(InvalidInput, match="is not an order number"):
        services.explain("12-ab", customer_id=OPERATOR)
    assert store.commits == 0


def test_a_failure_half_way_leaves_nothing_behind(services, store, monkeypatch):
    def broken(self, **kw):
        raise RuntimeError("the disk is full")

    with store.uow() as uow:
        monkeypatch.setattr(type(uow.audit), "record", broken)
    before = repr(store.tables)
    with pytest.raises(RuntimeError):
        services.request_cancellation(UNPAID, "other", customer_id="c1")
    assert repr(store.tables) == before


# --------------------------------------------------------------------------- the seller's answer

def test_seller_approval_closes_the_order_and_schedules_one_refund(services, store):
    add_cancellation(store, PAID, ago(hours=5))
    out = services.seller_respond(PAID, approve=True, operator=OPERATOR)
    again = services.seller_respond(PAID, approve=True, operator=OPERATOR)

    assert (out.created, out.state, out.reference) == (True, "approved", f"CXL-{PAID}")
    assert (again.refused, again.rule) == (True, "seller.already_approved")
    refund = table(store, "refunds")[PAID]
    assert (refund["reference"], refund["amount"], refund["state"]) == (f"RFD-{PAID}", Decimal("20.00"), "pending")


def test_seller_rejection_needs_a_well_formed_tracking_number_and_marks_the_order_shipped(services, store):
    add_cancellation(store, PAID, ago(hours=5))
    with pytest.raises(InvalidInput, match="tracking number"):
        services.seller_respond(PAID, approve=False, operator=OPERATOR)
    with pytest.raises(InvalidInput, match="'no good!' is not a tracking number"):
        services.seller_respond(PAID, approve=False, tracking_number="no good!", operator=OPERATOR)

    out = services.seller_respond(PAID, approve=False, tracking_number="RB123456789CN", operator=OPERATOR)
    assert (out.state, out.decision.status) == ("rejected", Status.AWAITING_DELIVERY)
    assert table(store, "orders")[PAID].tracking_number == "RB123456789CN"


def test_a_silent_seller_finds_the_request_settled_after_72_hours(services, store):
    add_cancellation(store, PAID, ago(hours=5))
    out = services.seller_respond(PAID, approve=False, tracking_number="RB123456789CN", at=later(hours=67), operator=OPERATOR)

    assert (out.refused, out.rule, out.state) == (True, "seller.already_auto_approved", "auto_approved")
    assert table(store, "orders")[PAID].status is Status.CLOSED
    assert table(store, "refunds")[PAID]["reason"] == "seller_silent"


# --------------------------------------------------------------------------- disputes

def test_a_partial_refund_dispute_is_filed_once_for_the_amount_asked(services, store):
    out = services.open_dispute(SHIPPED, reason="damaged", refund="partial", amount="7,50", customer_id="c1")
    again = services.open_dispute(SHIPPED, reason="not_received", customer_id="c1")

    assert (out.created, out.reference, out.state) == (True, f"DSP-{SHIPPED}", "open")
    assert (again.created, again.reference) == (False, f"DSP-{SHIPPED}")
    assert table(store, "disputes")[SHIPPED]["amount"] == Decimal("7.50")


def test_a_dispute_before_shipping_is_refused_by_the_policy(services, store):
    out = services.open_dispute(PAID, reason="not_received", customer_id="c1")
    assert (out.refused, out.rule) == (True, "dispute.not_shipped")
    assert table(store, "disputes") == {}


def test_escalating_an_open_dispute_once(services, store):
    services.open_dispute(SHIPPED, reason="damaged", customer_id="c1")
    first = services.escalate_dispute(SHIPPED, customer_id="c1")
    second = services.escalate_dispute(SHIPPED, customer_id="c1")

    assert (first.created, first.state, second.created) == (True, "escalated", False)
    assert table(store, "disputes")[SHIPPED]["escalated_by"] == "buyer"


def test_confirming_receipt_completes_the_order_unless_a_dispute_is_open(services, store):
    services.open_dispute(SHIPPED, reason="damaged", customer_id="c1")
    assert services.confirm_receipt(SHIPPED, customer_id="c1").rule == "receipt.dispute_open"
    with store.uow() as uow:
        o = uow.orders.get(SHIPPED)
        uow.orders.save_order(replace(o, dispute=None), NOW)
        uow.disputes.replace(SHIPPED, None)
        uow.commit()

    out = services.confirm_receipt(SHIPPED, customer_id="c1")
    assert (out.created, out.state) == (True, "completed")


# --------------------------------------------------------------------------- reads, ownership, handoffs, time

def test_explain_records_the_decision_and_can_leave_no_trace(services, store):
    d = services.explain(PAID, actor="bot:rest", customer_id=OPERATOR)
    services.explain(PAID, record=False, customer_id=OPERATOR)

    assert d.cancel.rule == "cancel.request_seller"
    assert [(a["kind"], a["actor"], a["detail"]["status"]) for a in table(store, "audit")] == [
        ("decision", "bot:rest", "awaiting_shipment")]


def test_unknown_and_someone_elses_orders_are_refused_by_number(services):
    with pytest.raises(OrderNotFound, match="There is no order 9999999999"):
        services.explain("9999999999", customer_id=OPERATOR)
    with pytest.raises(NotYourOrder):
        services.request_cancellation(OTHERS, "other", customer_id="c1")
    with pytest.raises(NotYourOrder, match="There is no order 9999999999 on this account"):
        services.explain("9999999999", customer_id="c1")  # to a customer: the same words as someone else's


def test_a_linked_chat_is_the_customers(services):
    assert services.customer_for_chat("rest", "chat-c1") == "c1"
    assert services.customer_for_chat("rest", "chat-c2") is None
    assert services.customer_for_chat("telegram", "chat-c1") is None


def test_orders_for_a_question_rank_without_saving(services, store):
    ranked = services.orders_for_question("c1", "cancel", at=later(days=30))
    assert {c.order.id for c in ranked} == {UNPAID, PAID, SHIPPED}
    assert store.commits == 0


def test_handoffs_and_filed_requests_are_listed_newest_first(services, store):
    services.request_cancellation(PAID, "other", customer_id="c1", at=ago(hours=2))
    services.open_dispute(SHIPPED, reason="damaged", customer_id="c1", at=ago(hours=1))
    ref = services.record_handoff(channel="rest", sender_id="chat\x00-c1", transcript="buyer: a person please",
                                  customer_id="c1", order_id="5555555555")

    assert ref.startswith("HND-20261122-")
    assert [(r["kind"], r["filed_at"]) for r in services.requests()] == [
        ("handoff", NOW), ("dispute", ago(hours=1)), ("cancellation", ago(hours=2))]
    h = table(store, "handoffs")[0]
    assert (h["sender_id"], h["order_id"]) == ("chat-c1", None)  # NUL dropped, unknown order not linked


def test_sweep_applies_due_transitions_once(services, store):
    at = later(days=30)
    first = services.sweep(at=at)
    second = services.sweep(at=at)

    assert {(c["order_id"], c["transition"]) for c in first} == {(UNPAID, "unpaid_closed"),
                                                                (PAID, "not_shipped"),
                                                                (OTHERS, "not_shipped")}
    assert second == []
    assert table(store, "orders")[UNPAID].status is Status.CLOSED


def test_a_lost_database_is_store_unavailable(services, store):
    store.lost = True
    for call in (lambda: services.explain(PAID, customer_id=OPERATOR), lambda: services.requests(), lambda: services.sweep()):
        with pytest.raises(StoreUnavailable, match="not reachable right now; nothing was changed"):
            call()


def test_fake_unit_of_work_rolls_back_unless_committed(store):
    with store.uow() as uow:
        uow.wipe()
    assert PAID in table(store, "orders")
