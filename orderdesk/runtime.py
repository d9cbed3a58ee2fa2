"""Wiring for the edges (CLI, actions): one engine and one `Services` per process, built lazily."""
from __future__ import annotations

import threading
from typing import Optional

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from . import db
from .repository import UnitOfWork
from . import clock as clocks
from .clock import Clock
from .services import InvalidInput, Services, StoreUnavailable

_ready: set[str] = set()
_lock = threading.Lock()


def ensure_schema(engine: Engine) -> None:
    """Migrate the database to head once per process and URL."""
    key = str(engine.url)
    with _lock:
        if key in _ready:
            return
        from .migrations import upgrade

        upgrade(engine)
        _ready.add(key)


def services(url: Optional[str] = None, clock: Optional[Clock] = None) -> Services:
    """Services on the database at `url` (default: ORDERDESK_DATABASE_URL), migrated to head, on
    `clock` (default: the one ORDERDESK_NOW fixes, else the system clock).

    Raises `StoreUnavailable` (a clear message, no driver traceback) when it can't be reached.
    """
    if clock is None:
        try:
            clock = clocks.from_env()
        except ValueError as e:
            raise InvalidInput(str(e)) from None
    engine = db.get_engine(url)
    try:
        ensure_schema(engine)
    except (OperationalError, InterfaceError) as e:
        raise StoreUnavailable(unavailable_message(engine, e)) from e
    return Services(uow=lambda: UnitOfWork(engine), clock=clock)


def unavailable_message(engine: Engine, error: Exception) -> str:
    where = engine.url.render_as_string(hide_password=True)
    reason = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (f"The order database at {where} is not reachable ({reason[0] if reason else 'no reason given'}); "
            "nothing was changed. Check ORDERDESK_DATABASE_URL and that the database server is running.")


def wipe(engine: Engine) -> None:
    """Delete every row (demo reset, tests). Children first."""
    with UnitOfWork(engine) as uow:
        uow.wipe()
        uow.commit()
