"""Rows <-> snapshots, and the unit of work that owns a transaction.

The unit of work rolls back unless `commit()` is called: a service that raises
half-way leaves nothing behind.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable, Mapping, Optional

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from . import db
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


class OrderRepository:
    def __init__(self, session: Session):
        self.session = session

    # -- orders ---------------------------------------------------------------
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

    def order_values(self, o: Order, now: datetime) -> dict[str, Any]:
        return dict(
            customer_id=o.customer, seller_id=o.seller, item=o.item, amount=o.amount, currency=o.currency,
            payment_method=o.payment_method.value if o.payment_method else None, status=o.status.value,
            placed_at=o.placed_at, paid_at=o.paid_at, shipped_at=o.shipped_at, tracking_number=o.tracking_number,
            delivered_at=o.delivered_at, confirmed_at=o.confirmed_at, completed_at=o.completed_at,
            completed_reason=o.completed_reason.value if o.completed_reason else None, closed_at=o.closed_at,
            closed_reason=o.closed_reason.value if o.closed_reason else None, handling_days=o.handling_days,
            delivery_days=o.delivery_days, updated_at=now,
        )

    def save_order(self, o: Order, now: datetime) -> None:
        """Write the order row and the states of its cancellation and dispute."""
        self.session.execute(update(db.orders).where(db.orders.c.id == o.id).values(**self.order_values(o, now)))
        if o.cancellation is not None:
            c = o.cancellation
            self.session.execute(
                update(db.cancellation_requests).where(db.cancellation_requests.c.order_id == o.id).values(
                    state=c.state.value, responded_at=c.responded_at, tracking_number=c.tracking_number))
        if o.dispute is not None:
            d = o.dispute
            self.session.execute(update(db.disputes).where(db.disputes.c.order_id == o.id).values(
                state=d.state.value, escalated_at=d.escalated_at, resolved_at=d.resolved_at))

    def ids_to_sweep(self) -> list[str]:
        open_statuses = [s.value for s in Status if s not in (Status.COMPLETED, Status.CLOSED)]
        q = select(db.orders.c.id).where(db.orders.c.status.in_(open_statuses)).union(
            select(db.disputes.c.order_id).where(db.disputes.c.state == DisputeState.OPEN.value))
        return sorted(r[0] for r in self.session.execute(q))

    def customer_for_chat(self, channel: str, chat_id: str) -> Optional[str]:
        q = select(db.chat_links.c.customer_id).where(
            db.chat_links.c.channel == channel, db.chat_links.c.chat_id == chat_id)
        return self.session.execute(q).scalar_one_or_none()

    def customer_email(self, customer_id: str) -> Optional[str]:
        q = select(db.customers.c.email).where(db.customers.c.id == customer_id)
        return self.session.execute(q).scalar_one_or_none()

    def count(self, table) -> int:
        return self.session.execute(select(func.count()).select_from(table)).scalar_one()

    # -- audit ------------------------------------------------------------------
    def audit(self, *, at: datetime, kind: str, actor: str, order_id: Optional[str] = None,
              rule: Optional[str] = None, effective_at: Optional[datetime] = None, **detail: Any) -> None:
        self.session.execute(insert(db.audit_log).values(
            at=at, effective_at=effective_at, order_id=order_id, kind=kind, actor=actor, rule=rule,
            detail=json.dumps(detail, default=str, sort_keys=True)))


class UnitOfWork:
    """`with UnitOfWork() as uow: ...; uow.commit()` — rolls back unless committed."""

    def __init__(self, engine: Optional[Engine] = None):
        self._engine = engine

    def __enter__(self) -> "UnitOfWork":
        self.session = Session(self._engine or db.get_engine(), future=True, expire_on_commit=False)
        self.orders = OrderRepository(self.session)
        return self

    def __exit__(self, *exc) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


UowFactory = Callable[[], UnitOfWork]
