"""Wiring for the edges (CLI, actions): one engine and one `Services` per process, built lazily."""
from __future__ import annotations

import threading
from typing import Optional

from sqlalchemy import delete
from sqlalchemy.engine import Engine

from . import db
from .repository import UnitOfWork
from .services import Clock, Services, utcnow

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


def services(url: Optional[str] = None, clock: Clock = utcnow) -> Services:
    engine = db.get_engine(url)
    ensure_schema(engine)
    return Services(uow=lambda: UnitOfWork(engine), clock=clock)


def wipe(engine: Engine) -> None:
    """Delete every row (demo reset). Children first."""
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(delete(table))
