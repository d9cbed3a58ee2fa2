"""Shared fixtures for the order-policy tests: a fixed clock and an order builder.

Nothing here reads the real clock. Every test builds its order relative to the
fixed `now` and asks the policy about a chosen instant (usually `now`, or a
deadline +/- one second).

The helpers are handed out as fixtures (not imported from this file), so the
tests keep working if another test folder grows its own conftest.py.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from orderdesk.model import Order, PaymentMethod, Status

from support import NOW  # the fixed "now" of every test

# An unpaid order placed an hour before NOW; tests replace what they need.
BASE_ORDER = Order(
    id="AE-1001",
    customer="buyer-1",
    seller="Shenzhen Cable Store",
    item="USB-C cable, 2 m",
    amount=Decimal("12.50"),
    currency="USD",
    status=Status.AWAITING_PAYMENT,
    placed_at=NOW - timedelta(hours=1),
    payment_method=PaymentMethod.CARD,
)


def build_order(**changes) -> Order:
    """The base order with `changes` applied (dataclasses.replace)."""
    return replace(BASE_ORDER, **changes)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def make_order():
    """The order builder: `make_order(status=..., paid_at=now - timedelta(days=2), ...)`."""
    return build_order

