"""Helpers the store and CLI tests share: the fixed clock, import records, and a row reader.

`tests/conftest.py` hands these out as fixtures; test modules that need them at
collection time (parametrize, module constants) import this module directly
(`tests/` is on sys.path because pytest puts a rootdir-less conftest's folder there).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from orderdesk import db
from orderdesk.importer import import_payload
from orderdesk.repository import UnitOfWork

from orderdesk.clock import iso  # noqa: F401 - ISO 8601 UTC with a 'Z', as the CLI prints it

# The fixed, timezone-aware "now" of every test: Sunday 22 November 2026, 12:00 UTC.
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def later(days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    return NOW + timedelta(days=days, hours=hours, seconds=seconds)


def customer_record(cid: str = "c1", **changes: Any) -> dict[str, Any]:
    rec = {"id": cid, "email": f"{cid}@example.com", "name": f"Customer {cid}", "chat_ids": {"rest": f"chat-{cid}"}}
    rec.update(changes)
    return rec


def order_record(oid: str = "1000000001", status: str = "awaiting_shipment", **changes: Any) -> dict[str, Any]:
    """An order as the import file spells it: customer c1, 20.00 USD by card, placed and paid
    two days before NOW, 7 handling days, not shipped, unless `changes` say otherwise.

    Datetimes may be given as `datetime` (also inside `cancellation` / `dispute`); they are
    written as ISO 8601 UTC strings.
    """
    rec: dict[str, Any] = {
        "id": oid, "customer": "c1", "seller": "s1", "item": "USB-C cable", "amount": "20.00", "currency": "USD",
        "payment_method": "card", "status": status, "placed_at": ago(2), "paid_at": ago(2), "shipped_at": None,
        "tracking_number": None, "delivered_at": None, "confirmed_at": None, "handling_days": 7,
        "delivery_days": 60, "cancellation": None, "dispute": None,
    }
    if status == "awaiting_payment":
        rec["paid_at"] = None
        rec["payment_method"] = None
    rec.update(changes)
    return _isoformat(rec)


def shipped_record(oid: str = "1000000002", **changes: Any) -> dict[str, Any]:
    """Paid 10 days ago, shipped 5 days ago, in transit (delivery window: 60 days)."""
    base = dict(placed_at=ago(10), paid_at=ago(10), shipped_at=ago(5), tracking_number="LP00123456789012")
    base.update(changes)
    return order_record(oid, "awaiting_delivery", **base)


def _isoformat(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _isoformat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_isoformat(v) for v in value]
    return value


def payload(*orders: dict[str, Any], customers: Optional[list[dict[str, Any]]] = None) -> dict[str, Any]:
    """An import file: these orders, with customers c1 and c2 unless given."""
    return {"customers": customers if customers is not None else [customer_record("c1"), customer_record("c2")],
            "orders": list(orders)}


class Store:
    """Test-side access to an engine: import a payload, read rows, count them."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def load(self, data: dict[str, Any], now: datetime = NOW) -> dict[str, int]:
        with UnitOfWork(self.engine) as uow:
            counts = import_payload(data, uow, now)
            uow.commit()
        return counts

    def orders(self, *records: dict[str, Any]) -> None:
        """Import these order records (with customers c1 and c2)."""
        self.load(payload(*records))

    def rows(self, table, *where, order_by=None) -> list[dict[str, Any]]:
        q = select(table)
        if where:
            q = q.where(*where)
        q = q.order_by(order_by if order_by is not None else list(table.primary_key.columns)[0])
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def row(self, table, *where) -> Optional[dict[str, Any]]:
        rows = self.rows(table, *where)
        assert len(rows) <= 1, rows
        return rows[0] if rows else None

    def count(self, table, *where) -> int:
        q = select(func.count()).select_from(table)
        if where:
            q = q.where(*where)
        with self.engine.connect() as conn:
            return conn.execute(q).scalar_one()

    def order(self, oid: str) -> Optional[dict[str, Any]]:
        return self.row(db.orders, db.orders.c.id == oid)

    def cancellation(self, oid: str) -> Optional[dict[str, Any]]:
        return self.row(db.cancellation_requests, db.cancellation_requests.c.order_id == oid)

    def dispute(self, oid: str) -> Optional[dict[str, Any]]:
        return self.row(db.disputes, db.disputes.c.order_id == oid)

    def refund(self, oid: str) -> Optional[dict[str, Any]]:
        return self.row(db.refunds, db.refunds.c.order_id == oid)

    def audit(self, *where) -> list[dict[str, Any]]:
        return self.rows(db.audit_log, *where, order_by=db.audit_log.c.id)

    def totals(self) -> dict[str, int]:
        """Row counts of every table (to show that nothing was written)."""
        return {t.name: self.count(t) for t in db.metadata.sorted_tables}


# --------------------------------------------------------------------------- running servers

def trained_model() -> "Path":
    """The trained model the server tests load: ORDERDESK_TEST_MODEL (set by `make test`), else the one for the
    current data. Without one they are skipped with that reason, except in CI (CI=true), where they fail."""
    import os
    from pathlib import Path

    import pytest

    raw = os.environ.get("ORDERDESK_TEST_MODEL")
    if raw and Path(raw).exists():
        return Path(raw)
    from orderdesk.nlp.train import model_path

    if model_path().exists():
        return model_path()
    why = "no trained model for the current data (run `make test`, which trains it)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def http_ok(url: str) -> bool:
    """GET url answers 200 within 2 s."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
