"""The order store: SQLAlchemy tables and the engine.

2.0-style throughout (`select()`, `Session(future=True)`, `registry` mappings) so
the move from SQLAlchemy 1.4 (which Rasa 3.6 pins) to 2.0 is free.
The schema itself is created by Alembic migrations (`orderdesk.migrations`).
"""
from __future__ import annotations

import contextlib
import contextvars
import os
import threading
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Iterator, Optional

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

DEFAULT_URL = "sqlite:///" + str(Path(__file__).resolve().parent.parent / "var" / "orderdesk.db")


def database_url() -> str:
    return os.environ.get("ORDERDESK_DATABASE_URL") or DEFAULT_URL


class UTCDateTime(TypeDecorator):
    """Stores UTC without a zone (SQLite has none) and always returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; pass a timezone-aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Money(TypeDecorator):
    """A decimal amount with 2 places. SQLite keeps NUMERIC as a float, so values are
    re-quantised on the way out; exact for any amount this store accepts (< 10^10)."""

    impl = Numeric(12, 2, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(Decimal(value).quantize(CENT))

    def process_result_value(self, value, dialect):
        return None if value is None else Decimal(repr(value)).quantize(CENT)


CENT = Decimal("0.01")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

customers = Table(
    "customers", metadata,
    Column("id", String(64), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(200), nullable=False, default=""),
)

chat_links = Table(
    "chat_links", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("chat_id", String(128), nullable=False),
    UniqueConstraint("channel", "chat_id", name="uq_chat_links_channel_chat_id"),
)

sellers = Table(
    "sellers", metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
)

orders = Table(
    "orders", metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", String(64), ForeignKey("customers.id"), nullable=False, index=True),
    Column("seller_id", String(64), ForeignKey("sellers.id"), nullable=False),
    Column("item", String(300), nullable=False),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("payment_method", String(20)),
    Column("status", String(32), nullable=False, index=True),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("paid_at", UTCDateTime),
    Column("shipped_at", UTCDateTime),
    Column("tracking_number", String(64)),
    Column("delivered_at", UTCDateTime),
    Column("confirmed_at", UTCDateTime),
    Column("completed_at", UTCDateTime),
    Column("completed_reason", String(32)),
    Column("closed_at", UTCDateTime),
    Column("closed_reason", String(32)),
    Column("handling_days", Integer),
    Column("delivery_days", Integer),
    Column("updated_at", UTCDateTime, nullable=False),
)

# At most one cancellation request per order: a rejected one is not filed again,
# an approved one closes the order. The unique constraint is what makes filing
# idempotent under concurrency.
cancellation_requests = Table(
    "cancellation_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("reason", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("responded_at", UTCDateTime),
    Column("tracking_number", String(64)),
    Column("channel", String(32)),
)

disputes = Table(
    "disputes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("reason", String(32), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("refund", String(8), nullable=False),
    Column("amount", Money),
    Column("state", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("escalated_at", UTCDateTime),
    Column("escalated_by", String(16)),
    Column("resolved_at", UTCDateTime),
    Column("channel", String(32)),
)

refunds = Table(
    "refunds", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("order_id", String(32), ForeignKey("orders.id"), nullable=False, unique=True),
    Column("amount", Money, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("destination", String(32), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expected_by", UTCDateTime, nullable=False),
)

handoff_requests = Table(
    "handoff_requests", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("reference", String(40), nullable=False, unique=True),
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(128), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.id")),
    Column("order_id", String(32), ForeignKey("orders.id")),
    Column("transcript", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Append-only: the store never updates or deletes these rows.
audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("effective_at", UTCDateTime),
    Column("order_id", String(32), index=True),
    Column("kind", String(16), nullable=False),  # decision | request | transition | import | handoff
    Column("actor", String(32), nullable=False),  # bot:<channel> | cli | sweep | seller
    Column("rule", String(64)),
    Column("detail", Text, nullable=False, default="{}"),
)

# Order number + email checks (orderdesk.verification). Every try is kept for an hour so the lock-out
# counts the same on every replica: failures per order number (whatever the sender) and per conversation.
verification_attempts = Table(
    "verification_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", String(32), nullable=False, index=True),  # as typed (normalised), may not exist
    Column("conversation", String(200), nullable=False, index=True),  # "<channel>:<sender id>"
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("succeeded", Integer, nullable=False, default=0),
)

# A conversation's proven customer: valid for its session only, and until 30 minutes without use.
verified_conversations = Table(
    "verified_conversations", metadata,
    Column("conversation", String(200), primary_key=True),
    Column("session", String(64), nullable=False),
    Column("customer_id", String(64), ForeignKey("customers.id", ondelete="CASCADE"), nullable=False),
    Column("verified_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
)


# --------------------------------------------------------------------------- engine

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


LOCK_WAIT_ENV = "ORDERDESK_DB_LOCK_WAIT"
DEFAULT_LOCK_WAIT = 4.0  # seconds; below the action timeout (10 s), so the bot can still say what happened


def lock_wait_seconds() -> float:
    """How long a transaction waits for a lock (SQLite's busy timeout, PostgreSQL's lock_timeout)."""
    try:
        return max(0.1, float(os.environ.get(LOCK_WAIT_ENV) or DEFAULT_LOCK_WAIT))
    except ValueError:
        return DEFAULT_LOCK_WAIT


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError:
                pass  # an unusable path: connecting fails, and the services report the store unavailable
        engine = create_engine(url, future=True,
                               connect_args={"timeout": lock_wait_seconds(), "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Let SQLAlchemy, not pysqlite, issue BEGIN (savepoints work, see below).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock up front: two writers then queue (busy timeout)
            # instead of failing when a read lock is upgraded.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # A server that does not answer, a row lock held too long or a stuck statement fail fast (the services
    # report the store unavailable) instead of holding the conversation past the action timeout.
    wait_ms = int(lock_wait_seconds() * 1000)
    options = f"-c lock_timeout={wait_ms} -c statement_timeout={2 * wait_ms}"
    return create_engine(url, future=True, pool_pre_ping=True, pool_size=5, max_overflow=10,
                         connect_args={"connect_timeout": 3, "options": options})


def get_engine(url: Optional[str] = None) -> Engine:
    """One engine per URL per process, built on first use (never at import)."""
    url = url or database_url()
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _lock:
        for e in _engines.values():
            e.dispose()
        _engines.clear()


# ---------------------------------------------------------------------------------- one connection per task

class SharedConnection:
    """One connection for the units of work of one task (an action), checked out at the first of them.

    An action answers with several short transactions (who the buyer is, the order, the audit row): each used
    to check a connection out of the pool, with its liveness check, and give it back. Inside `one_connection()`
    they take turns on one connection instead; each still begins, commits or rolls back its own transaction.
    A unit of work opened while another holds the connection (nested) gets a connection of its own, as does one
    on another engine; a connection that failed is dropped, and the next unit of work checks out a new one."""

    def __init__(self) -> None:
        self.engine: Optional[Engine] = None
        self.connection = None
        self.in_use = False

    def acquire(self, engine: Engine):
        """The connection for a unit of work on `engine`, or None: use the engine as usual."""
        if self.in_use or (self.engine is not None and self.engine is not engine):
            return None
        if self.connection is None or self.connection.closed or self.connection.invalidated:
            self.connection = engine.connect()
            self.engine = engine
        self.in_use = True
        return self.connection

    def release(self, failed: bool) -> None:
        self.in_use = False
        if self.connection is None:
            return
        if failed or self.connection.in_transaction():
            self.discard()

    def discard(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()  # back to the pool, rolled back (or dropped, when it was invalidated)
            except Exception:  # noqa: BLE001 - a connection that fails to close is one the pool replaces
                pass


_shared: "contextvars.ContextVar[Optional[SharedConnection]]" = contextvars.ContextVar("orderdesk_shared_connection",
                                                                                     default=None)


def shared_connection() -> Optional[SharedConnection]:
    """The task's shared connection, inside `one_connection()`; None elsewhere."""
    return _shared.get()


@contextlib.contextmanager
def one_connection() -> Iterator[SharedConnection]:
    """Units of work opened inside (in this thread or task) share one connection; it goes back to the pool at
    the end. Nothing is checked out unless a unit of work opens."""
    if _shared.get() is not None:  # already inside one: the outer one owns the connection
        yield _shared.get()
        return
    shared = SharedConnection()
    token = _shared.set(shared)
    try:
        yield shared
    finally:
        _shared.reset(token)
        shared.discard()
