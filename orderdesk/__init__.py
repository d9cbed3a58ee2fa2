"""orderdesk: the order-policy module, the order store and its services, for the order-support assistant."""

__version__ = "0.1.0"
