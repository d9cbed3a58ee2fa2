"""The JSON import: validate every record, then write all of them in one transaction.

A bad file gets an error naming the record and the field, and nothing is written.
Re-importing an id updates it.
"""
from __future__ import annotations

import json
from datetime import timezone
from decimal import Decimal

import pytest

from orderdesk import db
from orderdesk.demo import SITUATIONS, demo_payload
from orderdesk.importer import ImportError_, load_file
from orderdesk.model import Status
from orderdesk.services import OPERATOR, InvalidInput
from support import NOW, ago, customer_record, order_record, payload, shipped_record

GOOD = order_record("1000000001")


def with_bad_order(**changes):
    """A file with a good order first and order 1000000002 (orders[1]) changed by `changes`."""
    return payload(GOOD, order_record("1000000002", **changes))


def without(field):
    rec = order_record("1000000002")
    del rec[field]
    return payload(GOOD, rec)


BAD_FILES = {
    "order id not digits": (payload(GOOD, order_record("AB-12345")),
                            "orders[1]: field 'id' must be a string of 6 to 19 digits"),
    "order id as a number": (payload(GOOD, order_record(1000000002)),
                             "orders[1]: field 'id' must be a string of 6 to 19 digits"),
    "order id twice": (payload(GOOD, order_record("1000000001")),
                       "order 1000000001 (orders[1]): field 'id' appears twice in the file"),
    "placed_at missing": (without("placed_at"), "order 1000000002 (orders[1]): field 'placed_at' is required"),
    "placed_at without a timezone": (with_bad_order(placed_at="2026-11-20T10:00:00"),
                                     "order 1000000002 (orders[1]): field 'placed_at' must carry a timezone"),
    "placed_at not a date": (with_bad_order(placed_at="last Tuesday"),
                             "field 'placed_at' is not an ISO 8601 date-time: 'last Tuesday'"),
    "amount as a float": (with_bad_order(amount=12.5), "order 1000000002 (orders[1]): field 'amount' must be a "
                                                       "decimal string"),
    "amount negative": (with_bad_order(amount="-1.00"), "field 'amount' must be a non-negative amount"),
    "amount with three decimals": (with_bad_order(amount="1.005"), "field 'amount' must be a non-negative amount "
                                                                   "with at most 2 decimals"),
    "amount not a number": (with_bad_order(amount="twelve"), "field 'amount' is not a decimal amount: 'twelve'"),
    "amount too large": (with_bad_order(amount="10000000000.00"), "field 'amount' must be a non-negative"),
    "status unknown": (with_bad_order(status="shipped"), "order 1000000002 (orders[1]): field 'status' must be "
                                                         "one of awaiting_payment"),
    "customer not in the file": (with_bad_order(customer="nobody"),
                                 "field 'customer' names customer 'nobody', which is not in this file"),
    "paid order without paid_at": (with_bad_order(paid_at=None),
                                   "field 'paid_at' is required for status awaiting_shipment"),
    "shipped order without shipped_at": (with_bad_order(status="awaiting_delivery"),
                                         "field 'shipped_at' is required for status awaiting_delivery"),
    "shipped before paid": (with_bad_order(status="awaiting_delivery", shipped_at=ago(3)),
                            "field 'shipped_at' is before paid_at"),
    "completed without a completion time": (
        payload(GOOD, order_record("1000000002", "completed", shipped_at=ago(1))),
        "field 'completed_at' or confirmed_at is required for status completed"),
    "handling_days zero": (with_bad_order(handling_days=0), "field 'handling_days' must be a whole number"),
    "handling_days a string": (with_bad_order(handling_days="7"), "field 'handling_days' must be a whole number"),
    "item too long": (with_bad_order(item="x" * 301), "field 'item' is longer than 300 characters"),
    "currency too long": (with_bad_order(currency="USDX"), "field 'currency' is longer than 3 characters"),
    "payment method unknown": (with_bad_order(payment_method="cash"), "field 'payment_method' must be one of"),
    "closed reason unknown": (with_bad_order(status="closed", closed_reason="bored"),
                              "field 'closed_reason' must be one of"),
    "rejected cancellation without tracking": (
        with_bad_order(cancellation={"requested_at": ago(1), "state": "rejected", "reason": "other"}),
        "order 1000000002 (orders[1]) cancellation: field 'tracking_number' is required when the seller rejected"),
    "cancellation reason unknown": (
        with_bad_order(cancellation={"requested_at": ago(1), "state": "pending", "reason": "bored"}),
        "cancellation: field 'reason' must be one of"),
    "cancellation not an object": (with_bad_order(cancellation="yes"),
                                   "order 1000000002 (orders[1]): field 'cancellation' must be an object or null"),
    "partial dispute above the order amount": (
        payload(GOOD, shipped_record("1000000002", dispute={"opened_at": ago(1), "state": "open",
                                                            "reason": "damaged", "refund": "partial",
                                                            "amount": "20.01"})),
        "order 1000000002 (orders[1]) dispute: field 'amount' must be more than 0 and at most the order amount"),
    "dispute reason unknown": (
        payload(GOOD, shipped_record("1000000002", dispute={"opened_at": ago(1), "state": "open",
                                                            "reason": "meh"})),
        "dispute: field 'reason' must be one of"),
    "dispute description too long": (
        payload(GOOD, shipped_record("1000000002", dispute={"opened_at": ago(1), "state": "open",
                                                            "reason": "damaged", "description": "x" * 2001})),
        "dispute: field 'description' is longer than 2000 characters"),
    "customer email invalid": (payload(GOOD, customers=[customer_record("c1"), customer_record("c2", email="no")]),
                               "customer 'c2' (customers[1]): field 'email' is not an email address"),
    "customer name too long": (payload(GOOD, customers=[customer_record("c1", name="x" * 201)]),
                               "customer 'c1' (customers[0]): field 'name' is longer than 200 characters"),
    "customer without id": (payload(GOOD, customers=[{"email": "a@example.com"}]),
                            "customers[0]: field 'id' is required"),
    "customer twice": (payload(GOOD, customers=[customer_record("c1"), customer_record("c1")]),
                       "customer 'c1' (customers[1]): field 'id' appears twice in the file"),
    "chat on an unknown channel": (payload(GOOD, customers=[customer_record("c1", chat_ids={"whatsapp": "1"})]),
                                   "field 'chat_ids.whatsapp' names an unknown channel"),
    "chat id too long": (payload(GOOD, customers=[customer_record("c1", chat_ids={"rest": "x" * 129})]),
                         "field 'chat_ids.rest' is longer than 128 characters"),
    "a NUL character in a text": (with_bad_order(item="USB\x00cable"), "field 'item' contains a NUL character"),
    "unknown top-level key": ({**payload(GOOD), "order": []}, "unknown top-level key(s): order"),
    "not an object": ([GOOD], "the file must hold a JSON object"),
    "orders not a list": ({"customers": [], "orders": {"1000000001": GOOD}}, "'orders' must be lists"),
}


@pytest.mark.parametrize("bad_file, message", BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_names_the_record_and_field_and_imports_nothing(store, bad_file, message):
    with pytest.raises(ImportError_) as e:
        store.load(bad_file)
    assert message in str(e.value)
    assert isinstance(e.value, InvalidInput)
    assert all(n == 0 for n in store.totals().values()), store.totals()


def test_a_bad_file_leaves_an_earlier_import_untouched(store):
    store.load(payload(order_record("1000000001", amount="20.00"), order_record("1000000002")))
    before = store.rows(db.orders), store.rows(db.audit_log)

    with pytest.raises(ImportError_, match=r"orders\[1\]"):
        store.load(payload(order_record("1000000001", amount="99.00"), order_record("1000000002", status="lost")))
    assert (store.rows(db.orders), store.rows(db.audit_log)) == before


def test_import_writes_customers_orders_chats_and_filed_requests(store, services):
    counts = store.load(payload(
        order_record("1000000001", cancellation={"requested_at": ago(1), "state": "pending",
                                                 "reason": "out_of_stock"}),
        shipped_record("1000000002", customer="c2", dispute={"opened_at": ago(1), "state": "open",
                                                             "reason": "damaged", "description": "Broken."}),
    ))

    assert counts == {"customers": 2, "orders": 2}
    assert store.count(db.customers) == 2 and store.count(db.sellers) == 1
    assert services.customer_for_chat("rest", "chat-c2") == "c2"
    assert store.cancellation("1000000001")["reference"] == "CXL-1000000001"
    dispute = store.dispute("1000000002")
    assert (dispute["reference"], dispute["refund"], dispute["amount"]) == ("DSP-1000000002", "full",
                                                                           Decimal("20.00"))
    assert [(r["order_id"], r["kind"], r["actor"]) for r in store.audit()] == [
        ("1000000001", "import", "cli"), ("1000000002", "import", "cli")]


def test_reimporting_an_order_updates_it(store):
    store.load(payload(order_record("1000000001", amount="20.00", cancellation={
        "requested_at": ago(1), "state": "pending"})))
    store.load(payload(order_record("1000000001", "awaiting_delivery", amount="25.50", shipped_at=ago(1),
                                    tracking_number="RB123456789CN"),
                       customers=[customer_record("c1", email="new@example.com", chat_ids={"rest": "chat-new"})]))

    assert store.count(db.orders) == 1
    row = store.order("1000000001")
    assert (row["status"], row["amount"], row["tracking_number"]) == ("awaiting_delivery", Decimal("25.50"),
                                                                      "RB123456789CN")
    assert store.cancellation("1000000001") is None  # the file is the truth for what it names
    assert store.row(db.customers, db.customers.c.id == "c1")["email"] == "new@example.com"
    assert [r["chat_id"] for r in store.rows(db.chat_links, db.chat_links.c.customer_id == "c1")] == ["chat-new"]
    assert len(store.audit(db.audit_log.c.kind == "import")) == 2


def test_reimporting_a_chat_id_for_another_customer_moves_it(store, services):
    store.load(payload(GOOD))
    store.load(payload(GOOD, customers=[customer_record("c1", chat_ids={}),
                                        customer_record("c2", chat_ids={"rest": "chat-c1"})]))
    assert services.customer_for_chat("rest", "chat-c1") == "c2"


@pytest.mark.parametrize("amount", ["0.00", "0.01", "0.10", "12.90", "1234567.89", "9999999999.99"])
def test_amounts_come_back_exactly(store, amount):
    store.load(payload(order_record("1000000001", amount=amount)))
    assert store.order("1000000001")["amount"] == Decimal(amount)
    assert str(store.order("1000000001")["amount"]) == amount


def test_times_in_other_timezones_are_stored_in_utc(store):
    store.load(payload(order_record("1000000001", placed_at="2026-11-20T15:00:00+03:00",
                                    paid_at="2026-11-20T12:30:00Z")))
    row = store.order("1000000001")
    assert row["placed_at"] == NOW.replace(day=20)
    assert row["placed_at"].tzinfo == timezone.utc
    assert row["paid_at"] == NOW.replace(day=20, minute=30)


def test_a_closed_order_without_a_closing_time_is_closed_when_placed(store):
    store.load(payload(order_record("1000000001", "closed", closed_reason="seller_cancelled")))
    assert store.order("1000000001")["closed_at"] == ago(2)


def test_the_demo_set_imports_every_situation(store, services):
    counts = store.load(demo_payload(NOW))

    assert counts == {"customers": 2, "orders": len(SITUATIONS) + 1}
    ids = {r["id"] for r in store.rows(db.orders)}
    assert {oid for oid, _ in SITUATIONS} <= ids
    statuses = {services.explain(oid, record=False, customer_id=OPERATOR).status for oid in ids}
    assert statuses == set(Status)
    with pytest.raises(Exception, match="on this account"):
        services.explain("8200000000000001", customer_id="demo")


def test_loading_the_demo_set_twice_updates_it_in_place(store):
    store.load(demo_payload(NOW))
    store.load(demo_payload(NOW))
    assert store.count(db.orders) == len(SITUATIONS) + 1
    assert store.count(db.cancellation_requests) == 3 and store.count(db.disputes) == 3


def test_a_file_that_is_missing_or_not_json_is_reported_with_its_name(tmp_path):
    with pytest.raises(ImportError_, match="nowhere.json: no such file"):
        load_file(str(tmp_path / "nowhere.json"))
    broken = tmp_path / "broken.json"
    broken.write_text('{"customers": [\n  {"id": "c1",}\n]}')
    with pytest.raises(ImportError_, match=r"broken.json: not valid JSON \(line 2, column"):
        load_file(str(broken))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(payload(GOOD)))
    assert load_file(str(good))["orders"][0]["id"] == "1000000001"
