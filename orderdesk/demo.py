"""Demo data: an order for each situation a buyer meets, with times relative to now.

Rules reachable only through configuration (`mistaken_confirmation="no_refund"`) or through
import data that the services never produce are covered by the policy's unit tests instead.

Owned by customer `demo` (demo@example.com), linked to REST/socket.io sender id `demo`
and to the Rasa shell's conversation id `demo`. A second customer owns order
8200000000000001, to show what happens when someone asks about another buyer's order.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Optional

from .clock import iso as _iso


# (id, what it shows) — the README lists the same table.
SITUATIONS = [
    ("8100000000000001", "unpaid: cancel at once, no penalty; closes by itself after 20 days"),
    ("8100000000000002", "paid 3 hours ago, payment being checked: no Cancel button yet"),
    ("8100000000000003", "paid 2 days ago, awaiting shipment: cancellation needs the seller's approval"),
    ("8100000000000004", "cancellation requested 30 hours ago, waiting for the seller (72 h)"),
    ("8100000000000005", "shipped 5 days ago: no cancellation; receive, then return or dispute"),
    ("8100000000000006", "seller rejected the cancellation and gave a tracking number"),
    ("8100000000000007", "the seller cancelled it; paid with a card linked through Alipay"),
    ("8100000000000008", "receipt confirmed 3 days ago (by mistake?): 15-day return window"),
    ("8100000000000009", "shipped 62 days ago, 60-day delivery window passed, nothing came: dispute now"),
    ("8100000000000010", "dispute open for 5 days (item not as described)"),
    ("8100000000000011", "dispute open for 17 days: escalated to the platform"),
    ("8100000000000012", "closed yesterday, not shipped in time: refund in 2-5 days, PayPal"),
    ("8100000000000013", "unpaid for 21 days: closed automatically"),
    ("8100000000000014", "delivered 3 days ago, not yet confirmed: return possible"),
    ("8100000000000015", "completed 40 days ago: buyer protection over"),
    ("8100000000000016", "paid 6 days ago with a 3-day handling time, never shipped: closed and refunded"),
    ("8100000000000017", "seller approved the cancellation 25 days ago: the refund is overdue"),
    ("8100000000000018", "dispute resolved 2 days ago: no second dispute"),
]


def demo_payload(now: datetime) -> dict[str, Any]:
    d = lambda days=0, hours=0: now - timedelta(days=days, hours=hours)  # noqa: E731

    def order(oid: str, status: str, placed: datetime, **kw: Any) -> dict[str, Any]:
        base = {
            "id": oid, "customer": "demo", "seller": "sunrise-store", "item": kw.pop("item", "Phone case"),
            "amount": kw.pop("amount", "12.90"), "currency": "USD", "payment_method": kw.pop("payment_method", "card"),
            "status": status, "placed_at": _iso(placed), "paid_at": None, "shipped_at": None,
            "tracking_number": None, "delivered_at": None, "confirmed_at": None, "handling_days": 7,
            "delivery_days": 60, "cancellation": None, "dispute": None,
        }
        for k, v in kw.items():
            base[k] = _iso(v) if isinstance(v, datetime) else v
        return base

    orders = [
        order("8100000000000001", "awaiting_payment", d(2), item="Wireless earbuds", amount="24.99",
              payment_method=None),
        order("8100000000000002", "payment_processing", d(0, 3), paid_at=d(0, 3), item="Smart watch strap",
              amount="6.40"),
        order("8100000000000003", "awaiting_shipment", d(2), paid_at=d(2), item="LED desk lamp", amount="31.00"),
        order("8100000000000004", "awaiting_shipment", d(3), paid_at=d(3), item="Running shoes", amount="45.00",
              cancellation={"requested_at": _iso(d(0, 30)), "state": "pending", "reason": "wrong_product"}),
        order("8100000000000005", "awaiting_delivery", d(8), paid_at=d(8), shipped_at=d(5),
              tracking_number="LP00123456789012", item="Bluetooth speaker", amount="19.50"),
        order("8100000000000006", "awaiting_delivery", d(9), paid_at=d(9), shipped_at=d(4),
              tracking_number="RB123456789CN", item="Winter jacket", amount="58.00",
              cancellation={"requested_at": _iso(d(5)), "state": "rejected", "reason": "duplicate_order",
                            "responded_at": _iso(d(4)), "tracking_number": "RB123456789CN"}),
        order("8100000000000007", "closed", d(6), paid_at=d(6), closed_at=d(2), closed_reason="seller_cancelled",
              payment_method="alipay_card", item="Mechanical keyboard", amount="42.00"),
        order("8100000000000008", "completed", d(20), paid_at=d(20), shipped_at=d(16), delivered_at=d(4),
              confirmed_at=d(3), tracking_number="UA987654321CN", item="Silk scarf", amount="15.00"),
        order("8100000000000009", "awaiting_delivery", d(66), paid_at=d(66), shipped_at=d(62),
              tracking_number="YT2212345678901234", item="Camping tent", amount="64.00"),
        order("8100000000000010", "awaiting_delivery", d(30), paid_at=d(30), shipped_at=d(25), delivered_at=d(6),
              tracking_number="LP00987654321098", item="Leather wallet", amount="22.00",
              dispute={"opened_at": _iso(d(5)), "state": "open", "reason": "not_as_described", "refund": "partial",
                       "amount": "10.00", "description": "Colour is brown, listing said black."}),
        order("8100000000000011", "awaiting_delivery", d(50), paid_at=d(50), shipped_at=d(45),
              tracking_number="CAINIAO123456789", item="Drone", amount="89.00",
              dispute={"opened_at": _iso(d(17)), "state": "open", "reason": "tracking_stalled", "refund": "full",
                       "description": "Tracking has not moved for a month."}),
        order("8100000000000012", "closed", d(12), paid_at=d(12), closed_at=d(1), closed_reason="not_shipped_in_time",
              payment_method="paypal", item="Yoga mat", amount="17.80"),
        order("8100000000000013", "awaiting_payment", d(21), item="Sunglasses", amount="9.99", payment_method=None),
        order("8100000000000014", "awaiting_delivery", d(14), paid_at=d(14), shipped_at=d(10), delivered_at=d(3),
              tracking_number="UB123456789CN", item="Kitchen scale", amount="13.25", payment_method="wallet"),
        order("8100000000000015", "completed", d(80), paid_at=d(80), shipped_at=d(75), delivered_at=d(41),
              confirmed_at=d(40), item="Phone charger", amount="8.00"),
        order("8100000000000016", "awaiting_shipment", d(6), paid_at=d(6), handling_days=3, item="Desk organiser",
              amount="11.00"),
        order("8100000000000017", "closed", d(30), paid_at=d(30), closed_at=d(25),
              closed_reason="cancellation_approved", item="Bike light", amount="14.60",
              cancellation={"requested_at": _iso(d(26)), "state": "approved", "reason": "duplicate_order",
                            "responded_at": _iso(d(25))}),
        order("8100000000000018", "completed", d(40), paid_at=d(40), shipped_at=d(36), delivered_at=d(20),
              confirmed_at=d(19), tracking_number="LT123456789CN", item="Headphones", amount="35.00",
              dispute={"opened_at": _iso(d(12)), "state": "resolved", "reason": "damaged", "refund": "partial",
                       "amount": "15.00", "description": "Left ear does not work."}),
        dict(order("8200000000000001", "awaiting_shipment", d(1), paid_at=d(1), item="Gaming mouse",
                   amount="27.00"), customer="other"),
    ]
    return {
        "customers": [
            {"id": "demo", "email": "demo@example.com", "name": "Ana Silva",
             "chat_ids": {"rest": "demo", "socketio": "demo", "cmdline": "demo"}},
            {"id": "other", "email": "other@example.com", "name": "Ben Okafor", "chat_ids": {}},
        ],
        "orders": orders,
    }
