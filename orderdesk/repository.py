"""The repository layer: the only code that reads or writes the store's tables.

One repository per kind of record (orders, customers, sellers, cancellation requests,
disputes, refunds, handoffs, the audit log, the request listing), all on the session of
one `UnitOfWork`. The unit of work rolls back unless `commit()` is called (a service that
raises half-way leaves nothing behind) and turns a database that went away into
`StoreUnavailable`. Services, the importer and the CLI use only these methods;
`tests/unit/fakes.py` implements the same interface in memory.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Mapping, Optional

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from . import db
from .errors import STORE_LOST, StoreUnavailable

# What the driver raises when the database cannot be reached or goes away.
STORE_ERRORS = (OperationalError, InterfaceError)
from .model import (
    Cancellation,
    CancellationState,
    ClosedReason,
    CompletedReason,
    Dispute,
    DisputeState,
    Order,
    PaymentMethod,
    RefundKind,
    Status,
)


def _enum(cls, value):
    return None if value is None else cls(value)


def _snapshot(row: Mapping[str, Any], c: Optional[Mapping[str, Any]], d: Optional[Mapping[str, Any]]) -> Order:
    """An order row, with its cancellation request and dispute rows (or None), as a snapshot."""
    return Order(
        id=row["id"], customer=row["customer_id"], seller=row["seller_id"], item=row["item"],
        amount=row["amount"], currency=row["currency"],
        status=Status(row["status"]), placed_at=row["placed_at"],
        payment_method=_enum(PaymentMethod, row["payment_method"]), paid_at=row["paid_at"],
        shipped_at=row["shipped_at"], tracking_number=row["tracking_number"],
        delivered_at=row["delivered_at"], confirmed_at=row["confirmed_at"],
        handling_days=row["handling_days"], delivery_days=row["delivery_days"],
        completed_at=row["completed_at"], completed_reason=_enum(CompletedReason, row["completed_reason"]),
        closed_at=row["closed_at"], closed_reason=_enum(ClosedReason, row["closed_reason"]),
        cancellation=None if c is None else Cancellation(
            requested_at=c["requested_at"], state=CancellationState(c["state"]), reason=c["reason"],
            responded_at=c["responded_at"], tracking_number=c["tracking_number"]),
        dispute=None if d is None else Dispute(
            opened_at=d["opened_at"], state=DisputeState(d["state"]), reason=d["reason"],
            refund=RefundKind(d["refund"]),
            amount=d["amount"],
            description=d["description"], escalated_at=d["escalated_at"], resolved_at=d["resolved_at"]),
    )


class _Repository:
    def __init__(self, session: Session):
        self.session = session


class OrderRepository(_Repository):
    def get(self, order_id: str, *, for_update: bool = False) -> Optional[Order]:
        q = select(db.orders).where(db.orders.c.id == order_id)
        if for_update:
            q = q.with_for_update()
        row = self.session.execute(q).mappings().first()
        if row is None:
            return None
        c = self.session.execute(
            select(db.cancellation_requests).where(db.cancellation_requests.c.order_id == order_id)
        ).mappings().first()
        d = self.session.execute(select(db.disputes).where(db.disputes.c.order_id == order_id)).mappings().first()
        return _snapshot(row, c, d)

    def recent_orders(self, customer_id: str, limit: int = 50) -> list[Order]:
        """The customer's `limit` most recent orders as snapshots, newest first (three queries)."""
        q = (select(db.orders).where(db.orders.c.customer_id == customer_id)
             .order_by(db.orders.c.placed_at.desc(), db.orders.c.id).limit(limit))
        rows = list(self.session.execute(q).mappings())
        ids = [r["id"] for r in rows]
        if not ids:
            return []
        cr, dp = db.cancellation_requests, db.disputes
        cs = {r["order_id"]: r for r in self.session.execute(select(cr).where(cr.c.order_id.in_(ids))).mappings()}
        ds = {r["order_id"]: r for r in self.session.execute(select(dp).where(dp.c.order_id.in_(ids))).mappings()}
        return [_snapshot(r, cs.get(r["id"]), ds.get(r["id"])) for r in rows]

    def any(self) -> bool:
        """Whether the store holds at least one order."""
        return self.session.execute(select(db.orders.c.id).limit(1)).first() is not None

    def save_order(self, o: Order, now: datetime) -> None:
        """Write the order row and the states of its cancellation and dispute."""
        self.session.execute(update(db.orders).where(db.orders.c.id == o.id).values(**_order_values(o), updated_at=now))
        if o.cancellation is not None:
            c = o.cancellation
            self.session.execute(
                update(db.cancellation_requests).where(db.cancellation_requests.c.order_id == o.id).values(
                    state=c.state.value, responded_at=c.responded_at, tracking_number=c.tracking_number))
        if o.dispute is not None:
            d = o.dispute
            self.session.execute(update(db.disputes).where(db.disputes.c.order_id == o.id).values(
                state=d.state.value, escalated_at=d.escalated_at, resolved_at=d.resolved_at))

    def put(self, order_id: str, values: Mapping[str, Any], now: datetime) -> None:
        """Insert the order row, or update it when the id exists (an import)."""
        exists = self.session.execute(select(db.orders.c.id).where(db.orders.c.id == order_id)).first()
        if exists:
            self.session.execute(update(db.orders).where(db.orders.c.id == order_id).values(**values, updated_at=now))
        else:
            self.session.execute(insert(db.orders).values(id=order_id, **values, updated_at=now))

    def ids_to_sweep(self) -> list[str]:
        open_statuses = [s.value for s in Status if s not in (Status.COMPLETED, Status.CLOSED)]
        q = select(db.orders.c.id).where(db.orders.c.status.in_(open_statuses)).union(
            select(db.disputes.c.order_id).where(db.disputes.c.state == DisputeState.OPEN.value))
        return sorted(r[0] for r in self.session.execute(q))


def _order_values(o: Order) -> dict[str, Any]:
    return dict(
        customer_id=o.customer, seller_id=o.seller, item=o.item, amount=o.amount, currency=o.currency,
        payment_method=o.payment_method.value if o.payment_method else None, status=o.status.value,
        placed_at=o.placed_at, paid_at=o.paid_at, shipped_at=o.shipped_at, tracking_number=o.tracking_number,
        delivered_at=o.delivered_at, confirmed_at=o.confirmed_at, completed_at=o.completed_at,
        completed_reason=o.completed_reason.value if o.completed_reason else None, closed_at=o.closed_at,
        closed_reason=o.closed_reason.value if o.closed_reason else None, handling_days=o.handling_days,
        delivery_days=o.delivery_days,
    )


class CustomerRepository(_Repository):
    def email(self, customer_id: str) -> Optional[str]:
        q = select(db.customers.c.email).where(db.customers.c.id == customer_id)
        return self.session.execute(q).scalar_one_or_none()

    def exists(self, customer_id: str) -> bool:
        return self.session.execute(select(db.customers.c.id).where(db.customers.c.id == customer_id)).first() \
            is not None

    def put(self, customer_id: str, *, email: str, name: str) -> None:
        """Insert the customer, or update the email and name when the id exists."""
        if self.exists(customer_id):
            self.session.execute(update(db.customers).where(db.customers.c.id == customer_id).values(
                email=email, name=name))
        else:
            self.session.execute(insert(db.customers).values(id=customer_id, email=email, name=name))

    def for_chat(self, channel: str, chat_id: str) -> Optional[str]:
        """The customer a channel's chat is linked to, or None."""
        q = select(db.chat_links.c.customer_id).where(
            db.chat_links.c.channel == channel, db.chat_links.c.chat_id == chat_id)
        return self.session.execute(q).scalar_one_or_none()

    def chat_ids(self, customer_id: str) -> dict[str, str]:
        """The customer's chat id on each channel it is linked on."""
        q = select(db.chat_links.c.channel, db.chat_links.c.chat_id).where(
            db.chat_links.c.customer_id == customer_id).order_by(db.chat_links.c.channel)
        return {ch: chat for ch, chat in self.session.execute(q)}

    def set_chat_ids(self, customer_id: str, chat_ids: Mapping[str, str]) -> None:
        """Replace the customer's chat links with `chat_ids`; a chat linked to another customer moves."""
        self.session.execute(delete(db.chat_links).where(db.chat_links.c.customer_id == customer_id))
        for channel, chat_id in chat_ids.items():
            self.link(customer_id, channel, chat_id)

    def link(self, customer_id: str, channel: str, chat_id: str) -> None:
        """Link the chat to the customer: one chat id per customer and channel, one customer per chat."""
        self.session.execute(delete(db.chat_links).where(
            db.chat_links.c.channel == channel,
            (db.chat_links.c.chat_id == chat_id) | (db.chat_links.c.customer_id == customer_id)))
        self.session.execute(insert(db.chat_links).values(customer_id=customer_id, channel=channel, chat_id=chat_id))

    def unlink(self, customer_id: str, channel: str, chat_id: str) -> bool:
        """Remove the link; False when there was none."""
        result = self.session.execute(delete(db.chat_links).where(
            db.chat_links.c.customer_id == customer_id, db.chat_links.c.channel == channel,
            db.chat_links.c.chat_id == chat_id))
        return result.rowcount > 0


class SellerRepository(_Repository):
    def ensure(self, seller_id: str) -> None:
        """Add the seller (named by its id) unless it exists."""
        if not self.session.execute(select(db.sellers.c.id).where(db.sellers.c.id == seller_id)).first():
            self.session.execute(insert(db.sellers).values(id=seller_id, name=seller_id))


class _OnePerOrder(_Repository):
    """A request kind the store keeps at most one of per order (unique `order_id` and `reference`)."""

    table = None

    def add(self, **values: Any) -> bool:
        """Insert the row; False (and nothing written) when the order already has one: someone filed
        it between our read and our insert (a double click on another replica)."""
        try:
            with self.session.begin_nested():
                self.session.execute(insert(self.table).values(**values))
        except IntegrityError:
            return False
        return True

    def reference(self, order_id: str) -> Optional[str]:
        q = select(self.table.c.reference).where(self.table.c.order_id == order_id)
        return self.session.execute(q).scalar_one_or_none()

    def replace(self, order_id: str, values: Optional[Mapping[str, Any]]) -> None:
        """The order's row becomes `values` (None: no row): an import states the whole order."""
        self.session.execute(delete(self.table).where(self.table.c.order_id == order_id))
        if values:
            self.session.execute(insert(self.table).values(order_id=order_id, **values))


class CancellationRepository(_OnePerOrder):
    table = db.cancellation_requests


class DisputeRepository(_OnePerOrder):
    table = db.disputes

    def escalated_by(self, order_id: str, who: str) -> None:
        self.session.execute(update(db.disputes).where(db.disputes.c.order_id == order_id).values(escalated_by=who))


class RefundRepository(_OnePerOrder):
    table = db.refunds

    def exists(self, order_id: str) -> bool:
        return self.reference(order_id) is not None


class HandoffRepository(_Repository):
    def add(self, **values: Any) -> None:
        self.session.execute(insert(db.handoff_requests).values(**values))

    def append(self, reference: str, line: str, *, channel: str, sender_id: str, limit: int) -> bool:
        """Add a line to the transcript of the open handoff `reference` opened by this conversation."""
        h = db.handoff_requests.c
        mine = (h.reference == reference) & (h.channel == channel) & (h.sender_id == sender_id) & (h.state == "open")
        row = self.session.execute(select(h.transcript).where(mine).with_for_update()).first()
        if row is None:
            return False
        self.session.execute(update(db.handoff_requests).where(mine).values(transcript=(row[0] + "\n" + line)[:limit]))
        return True


class AuditLog(_Repository):
    def record(self, *, at: datetime, kind: str, actor: str, order_id: Optional[str] = None,
               rule: Optional[str] = None, effective_at: Optional[datetime] = None, **detail: Any) -> None:
        self.session.execute(insert(db.audit_log).values(
            at=at, effective_at=effective_at, order_id=order_id, kind=kind, actor=actor, rule=rule,
            detail=json.dumps(detail, default=str, sort_keys=True)))


class RequestListing(_Repository):
    """Cancellation requests, disputes and handoffs in one list, newest first."""

    def all(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for kind, t, filed in (("cancellation", db.cancellation_requests, "requested_at"),
                               ("dispute", db.disputes, "opened_at"),
                               ("handoff", db.handoff_requests, "created_at")):
            for r in self.session.execute(select(t.c.reference, t.c.order_id, t.c.state, t.c[filed])):
                rows.append({"reference": r[0], "order_id": r[1], "kind": kind, "state": r[2], "filed_at": r[3]})
        rows.sort(key=lambda r: (r["filed_at"], r["reference"]), reverse=True)
        return rows


class VerificationRepository(_Repository):
    """Order number + email checks (orderdesk.verification): the tries, and the conversations they proved."""

    def serialize(self, *keys: str) -> None:
        """Take this transaction's turn for `keys` (an order number, a conversation): two checks of the
        same order at once are counted one after the other, so no burst gets more than MAX_FAILURES tries.
        SQLite needs nothing: every write transaction there starts with BEGIN IMMEDIATE (orderdesk.db)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for key in sorted(set(keys)):
            self.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": "verify:" + key})

    def failures_since(self, since: datetime, *, order_id: Optional[str] = None,
                       conversation: Optional[str] = None) -> list[datetime]:
        a = db.verification_attempts.c
        q = select(a.at).where(a.succeeded == 0, a.at > since).order_by(a.at)
        q = q.where(a.order_id == order_id) if order_id is not None else q.where(a.conversation == conversation)
        return [r[0] for r in self.session.execute(q)]

    def record_attempt(self, order_id: str, conversation: str, at: datetime, succeeded: bool) -> None:
        self.session.execute(insert(db.verification_attempts).values(
            order_id=order_id, conversation=conversation, at=at, succeeded=1 if succeeded else 0))

    def forget_attempts_before(self, before: datetime) -> None:
        self.session.execute(delete(db.verification_attempts).where(db.verification_attempts.c.at < before))

    def owner_and_email(self, order_id: str) -> Optional[tuple[str, str]]:
        o, c = db.orders.c, db.customers.c
        row = self.session.execute(select(o.customer_id, c.email).join_from(
            db.orders, db.customers, o.customer_id == c.id).where(o.id == order_id)).first()
        return None if row is None else (row[0], row[1] or "")

    def verified(self, conversation: str) -> Optional[tuple[str, str, datetime]]:
        v = db.verified_conversations.c
        row = self.session.execute(select(v.customer_id, v.session, v.last_seen_at).where(
            v.conversation == conversation)).first()
        return None if row is None else (row[0], row[1], row[2])

    def save_verified(self, conversation: str, session: str, customer_id: str, at: datetime) -> None:
        v = db.verified_conversations
        self.session.execute(delete(v).where(v.c.conversation == conversation))
        self.session.execute(insert(v).values(conversation=conversation, session=session, customer_id=customer_id,
                                              verified_at=at, last_seen_at=at))

    def touch(self, conversation: str, at: datetime) -> None:
        v = db.verified_conversations
        self.session.execute(update(v).where(v.c.conversation == conversation).values(last_seen_at=at))

    def forget(self, conversation: str) -> None:
        v = db.verified_conversations
        self.session.execute(delete(v).where(v.c.conversation == conversation))


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.commit()` — rolls back unless committed.

    A database that cannot be reached (or goes away inside the block) leaves it as
    `StoreUnavailable`, with nothing written.
    """

    def __init__(self, engine: Optional[Engine] = None):
        self._engine = engine

    def __enter__(self) -> "UnitOfWork":
        engine = self._engine or db.get_engine()
        # Inside `db.one_connection()` (an action), on the connection its units of work share.
        shared = db.shared_connection()
        try:
            connection = shared.acquire(engine) if shared is not None else None
        except STORE_ERRORS as e:
            raise StoreUnavailable(STORE_LOST) from e
        self._shared = shared if connection is not None else None
        self.session = s = Session(connection if connection is not None else engine, future=True,
                                   expire_on_commit=False)
        self.orders = OrderRepository(s)
        self.customers = CustomerRepository(s)
        self.sellers = SellerRepository(s)
        self.cancellations = CancellationRepository(s)
        self.disputes = DisputeRepository(s)
        self.refunds = RefundRepository(s)
        self.handoffs = HandoffRepository(s)
        self.audit = AuditLog(s)
        self.requests = RequestListing(s)
        self.verification = VerificationRepository(s)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        failed = isinstance(exc, STORE_ERRORS)
        try:
            self.session.rollback()
            self.session.close()
        except STORE_ERRORS:
            failed = True
            if exc is None:
                raise StoreUnavailable(STORE_LOST) from None
        finally:
            if self._shared is not None:
                self._shared.release(failed)
        if isinstance(exc, STORE_ERRORS):
            raise StoreUnavailable(STORE_LOST) from exc

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()

    def wipe(self) -> None:
        """Delete every row of every table, children first (a demo reset)."""
        for table in reversed(db.metadata.sorted_tables):
            self.session.execute(delete(table))
