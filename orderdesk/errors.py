"""The errors a service raises: each carries a message fit to show to the person who caused it.

Its own module so the repository layer (which turns a lost database into `StoreUnavailable`)
and the services share them without importing each other.
"""
from __future__ import annotations


class ServiceError(Exception):
    """An error with a message fit to show to the person who caused it."""

    code = "error"


class InvalidInput(ServiceError):
    code = "invalid_input"


class OrderNotFound(ServiceError):
    code = "order_not_found"


class NotYourOrder(ServiceError):
    code = "not_your_order"


class StoreUnavailable(ServiceError):
    code = "store_unavailable"


STORE_LOST = "The order database is not reachable right now; nothing was changed."
