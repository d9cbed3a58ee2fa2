"""Order builders and time helpers shared by the policy tests."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from orderdesk.model import CompletedReason, Status
from orderdesk.policy_config import DEFAULT

SECOND = timedelta(seconds=1)
NO_REFUND = replace(DEFAULT, mistaken_confirmation="no_refund")


def days(n: float) -> timedelta:
    return timedelta(days=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def paid(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_SHIPMENT)
    kw.setdefault("placed_at", now - days(3))
    kw.setdefault("paid_at", now - days(3) + hours(1))
    return make(**kw)


def shipped(make, now, **kw):
    kw.setdefault("status", Status.AWAITING_DELIVERY)
    kw.setdefault("shipped_at", now - days(5))
    kw.setdefault("tracking_number", "LP00123456789CN")
    kw.setdefault("placed_at", now - days(9))
    kw.setdefault("paid_at", now - days(9) + hours(1))
    return make(**kw)


def confirmed(make, now, confirmed, **kw):
    return shipped(make, now, status=Status.COMPLETED, shipped_at=confirmed - days(10), delivered_at=confirmed,
                    confirmed_at=confirmed, completed_at=confirmed, completed_reason=CompletedReason.CONFIRMED, **kw)
