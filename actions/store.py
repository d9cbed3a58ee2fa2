"""The action server's handle on the order store, built on first use (never at import)."""
from __future__ import annotations

import threading
from typing import Optional

from orderdesk.services import Services

_services: Optional[Services] = None
_lock = threading.Lock()


def get_services() -> Services:
    global _services
    with _lock:
        if _services is None:
            from sqlalchemy.exc import SQLAlchemyError

            from orderdesk.runtime import services
            from orderdesk.services import StoreUnavailable

            try:
                _services = services()
            except SQLAlchemyError as e:  # not cached: the next action tries again
                raise StoreUnavailable("The order database is not reachable right now.") from e
        return _services


def use_services(services: Optional[Services]) -> None:
    """Point the actions at another store (tests); None goes back to the default."""
    global _services
    with _lock:
        _services = services
