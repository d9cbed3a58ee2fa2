"""Loading customers and orders from JSON: validate everything, then write in one transaction.

A bad file raises `ImportError_` naming the record and the field; nothing is written.
Re-importing an id updates it.
"""
from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Optional

from .errors import InvalidInput
from .model import (CANCELLATION_REASONS, DISPUTE_REASONS, MAX_DESCRIPTION, CancellationState, ClosedReason,
                    CompletedReason, DisputeState, PaymentMethod, Status, cancellation_reference, dispute_reference)
from .repository import UnitOfWork
from .services import ORDER_ID_RE

CHANNELS = ("rest", "socketio", "telegram", "slack", "cmdline", "webchat")


class ImportError_(InvalidInput):
    code = "import_error"


def _fail(where: str, field: str, problem: str) -> None:
    raise ImportError_(f"{where}: field '{field}' {problem}")


def _when(rec: dict, where: str, field: str, required: bool = False) -> Optional[datetime]:
    v = rec.get(field)
    if v is None:
        if required:
            _fail(where, field, "is required")
        return None
    if not isinstance(v, str):
        _fail(where, field, f"must be an ISO 8601 date-time string, not {type(v).__name__}")
    try:
        dt = datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        _fail(where, field, f"is not an ISO 8601 date-time: {v[:40]!r}")
    if dt.tzinfo is None:
        _fail(where, field, f"must carry a timezone (e.g. 'Z' or '+00:00'): {v[:40]!r}")
    return dt


def _str(rec: dict, where: str, field: str, required: bool = True, max_len: int = 300) -> Optional[str]:
    v = rec.get(field)
    if v is None or v == "":
        if required:
            _fail(where, field, "is required")
        return None
    if not isinstance(v, str):
        _fail(where, field, f"must be a string, not {type(v).__name__}")
    if len(v) > max_len:
        _fail(where, field, f"is longer than {max_len} characters")
    if "\x00" in v:  # PostgreSQL can't store it
        _fail(where, field, "contains a NUL character")
    return v


def _choice(rec: dict, where: str, field: str, choices, required: bool = True) -> Optional[str]:
    v = rec.get(field)
    if v is None:
        if required:
            _fail(where, field, "is required")
        return None
    if v not in choices:
        _fail(where, field, f"must be one of {', '.join(choices)}; got {str(v)[:40]!r}")
    return v


def _days(rec: dict, where: str, field: str) -> Optional[int]:
    v = rec.get(field)
    if v is None:
        return None
    if not isinstance(v, int) or isinstance(v, bool) or not 0 < v <= 365:
        _fail(where, field, "must be a whole number of days from 1 to 365")
    return v


def _money(rec: dict, where: str, field: str, required: bool = True) -> Optional[Decimal]:
    v = rec.get(field)
    if v is None:
        if required:
            _fail(where, field, "is required")
        return None
    if not isinstance(v, str):
        _fail(where, field, "must be a decimal string such as \"12.50\"")
    try:
        d = Decimal(v)
    except InvalidOperation:
        _fail(where, field, f"is not a decimal amount: {v[:40]!r}")
    if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")) or d >= Decimal("1e10"):
        _fail(where, field, f"must be a non-negative amount with at most 2 decimals: {v[:40]!r}")
    return d


def chat_id_problem(channel: str, chat: Any) -> Optional[str]:
    """What is wrong with a chat id for a channel, or None when the store can keep it."""
    if channel not in CHANNELS:
        return f"names an unknown channel; use one of {', '.join(CHANNELS)}"
    if not isinstance(chat, (str, int)) or isinstance(chat, bool) or str(chat) == "":
        return "must be a string"
    if len(str(chat)) > 128 or "\x00" in str(chat):
        return "is longer than 128 characters or contains a NUL character"
    return None


def validate(payload: Any) -> tuple[list[dict], list[dict]]:
    """The file's customers and orders, checked and normalised; `ImportError_` names the first problem."""
    if not isinstance(payload, dict):
        raise ImportError_("the file must hold a JSON object with 'customers' and 'orders' lists")
    unknown = set(payload) - {"customers", "orders"}
    if unknown:
        raise ImportError_(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    customers_in, orders_in = payload.get("customers", []), payload.get("orders", [])
    if not isinstance(customers_in, list) or not isinstance(orders_in, list):
        raise ImportError_("'customers' and 'orders' must be lists")
    customer_ids: set[str] = set()
    customers = _each(customers_in, "customers", lambda rec, index: _customer(rec, index, customer_ids))
    order_ids: set[str] = set()
    orders = _each(orders_in, "orders", lambda rec, index: _order(rec, index, order_ids, customer_ids))
    return customers, orders


def _each(records: list, kind: str, check) -> list[dict]:
    """`check(record, "kind[i]")` for each record, which must be an object."""
    out: list[dict] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise ImportError_(f"{kind}[{i}]: must be an object")
        out.append(check(rec, f"{kind}[{i}]"))
    return out


def _once(seen: set[str], key: str, where: str) -> None:
    if key in seen:
        _fail(where, "id", "appears twice in the file")
    seen.add(key)


def _customer(rec: dict, index: str, seen: set[str]) -> dict:
    cid = _str(rec, index, "id", max_len=64)
    where = f"customer {cid!r} ({index})"
    email = _str(rec, where, "email", max_len=254)
    if "@" not in email or " " in email.strip():
        _fail(where, "email", f"is not an email address: {email[:40]!r}")
    chat_ids = rec.get("chat_ids") or {}
    if not isinstance(chat_ids, dict):
        _fail(where, "chat_ids", "must be an object mapping channel to chat id")
    for ch, chat in chat_ids.items():
        problem = chat_id_problem(ch, chat)
        if problem:
            _fail(where, f"chat_ids.{ch}", problem)
    _once(seen, cid, where)
    name = _str(rec, where, "name", required=False, max_len=200) or ""
    return {"id": cid, "email": email.strip(), "name": name, "chat_ids": {ch: str(v) for ch, v in chat_ids.items()}}


def _order(rec: dict, index: str, seen: set[str], customers: set[str]) -> dict:
    oid = rec.get("id")
    if not isinstance(oid, str) or not ORDER_ID_RE.match(oid):
        _fail(index, "id", "must be a string of 6 to 19 digits")
    where = f"order {oid} ({index})"
    _once(seen, oid, where)
    o = {
        "id": oid,
        "customer_id": _str(rec, where, "customer", max_len=64),
        "seller_id": _str(rec, where, "seller", max_len=64),
        "item": _str(rec, where, "item"),
        "amount": _money(rec, where, "amount"),
        "currency": _str(rec, where, "currency", max_len=3),
        "payment_method": _choice(rec, where, "payment_method", [m.value for m in PaymentMethod], False),
        "status": _choice(rec, where, "status", [s.value for s in Status]),
        "placed_at": _when(rec, where, "placed_at", required=True),
        "paid_at": _when(rec, where, "paid_at"),
        "shipped_at": _when(rec, where, "shipped_at"),
        "tracking_number": _str(rec, where, "tracking_number", required=False, max_len=64),
        "delivered_at": _when(rec, where, "delivered_at"),
        "confirmed_at": _when(rec, where, "confirmed_at"),
        "completed_at": _when(rec, where, "completed_at"),
        "closed_at": _when(rec, where, "closed_at"),
        "closed_reason": rec.get("closed_reason"),
        "completed_reason": rec.get("completed_reason"),
        "handling_days": _days(rec, where, "handling_days"),
        "delivery_days": _days(rec, where, "delivery_days"),
    }
    if o["customer_id"] not in customers:
        _fail(where, "customer", f"names customer {o['customer_id']!r}, which is not in this file")
    _check_status_times(o, where)
    o["cancellation"] = _cancellation(rec.get("cancellation"), where)
    o["dispute"] = _dispute(rec.get("dispute"), where, o["amount"])
    _choice(o, where, "closed_reason", [r.value for r in ClosedReason], required=False)
    _choice(o, where, "completed_reason", [r.value for r in CompletedReason], required=False)
    _complete_final_states(o, where)
    return o


def _check_status_times(o: dict, where: str) -> None:
    """The times a status needs are there, and the order's steps happened in order."""
    status = Status(o["status"])
    if status not in (Status.AWAITING_PAYMENT, Status.CLOSED) and o["paid_at"] is None:
        _fail(where, "paid_at", f"is required for status {status.value}")
    if status in (Status.AWAITING_DELIVERY, Status.COMPLETED) and o["shipped_at"] is None:
        _fail(where, "shipped_at", f"is required for status {status.value}")
    known = [(f, o[f]) for f in ("placed_at", "paid_at", "shipped_at", "delivered_at") if o[f] is not None]
    for (f1, t1), (f2, t2) in zip(known, known[1:]):
        if t2 < t1:
            _fail(where, f2, f"is before {f1}")


def _complete_final_states(o: dict, where: str) -> None:
    """A closed or completed order gets the time (and reason) the file left out."""
    status = Status(o["status"])
    if status is Status.CLOSED and o["closed_at"] is None:
        o["closed_at"] = o["placed_at"]
    if status is Status.COMPLETED and o["completed_at"] is None:
        o["completed_at"] = o["confirmed_at"]
        if o["completed_at"] is None:
            _fail(where, "completed_at", "or confirmed_at is required for status completed")
        o["completed_reason"] = o["completed_reason"] or "confirmed"


def _cancellation(rec: Any, where: str) -> Optional[dict]:
    if rec is None:
        return None
    if not isinstance(rec, dict):
        raise ImportError_(f"{where}: field 'cancellation' must be an object or null")
    w = f"{where} cancellation"
    c = {
        "requested_at": _when(rec, w, "requested_at", required=True),
        "state": _choice(rec, w, "state", [s.value for s in CancellationState]),
        "reason": _choice(rec, w, "reason", list(CANCELLATION_REASONS), required=False) or "other",
        "responded_at": _when(rec, w, "responded_at"),
        "tracking_number": _str(rec, w, "tracking_number", required=False, max_len=64),
    }
    if c["state"] == "rejected" and not c["tracking_number"]:
        _fail(w, "tracking_number", "is required when the seller rejected the cancellation")
    return c


def _dispute(rec: Any, where: str, order_amount: Decimal) -> Optional[dict]:
    if rec is None:
        return None
    if not isinstance(rec, dict):
        raise ImportError_(f"{where}: field 'dispute' must be an object or null")
    w = f"{where} dispute"
    d = {
        "opened_at": _when(rec, w, "opened_at", required=True),
        "state": _choice(rec, w, "state", [s.value for s in DisputeState]),
        "reason": _choice(rec, w, "reason", list(DISPUTE_REASONS)),
        "refund": _choice(rec, w, "refund", ["full", "partial"], required=False) or "full",
        "amount": _money(rec, w, "amount", required=False),
        "description": _str(rec, w, "description", required=False, max_len=MAX_DESCRIPTION) or "",
        "escalated_at": _when(rec, w, "escalated_at"),
    }
    if d["refund"] == "partial" and (d["amount"] is None or not 0 < d["amount"] <= order_amount):
        _fail(w, "amount", "must be more than 0 and at most the order amount for a partial refund")
    if d["refund"] == "full":
        d["amount"] = order_amount
    return d


def import_payload(payload: Any, uow: UnitOfWork, now: datetime, actor: str = "cli") -> dict[str, int]:
    """Validate the whole payload, then write it through the unit of work's repositories (the caller commits)."""
    customers, orders = validate(payload)
    for c in customers:
        uow.customers.put(c["id"], email=c["email"], name=c["name"])
        uow.customers.set_chat_ids(c["id"], c["chat_ids"])
    for o in orders:
        o = dict(o)
        oid, cancellation, dispute = o.pop("id"), o.pop("cancellation"), o.pop("dispute")
        uow.sellers.ensure(o["seller_id"])
        uow.orders.put(oid, o, now)
        uow.cancellations.replace(oid, cancellation and {
            "reference": cancellation_reference(oid), "channel": "import", **cancellation})
        uow.disputes.replace(oid, dispute and {"reference": dispute_reference(oid), "channel": "import", **dispute})
        uow.audit.record(at=now, kind="import", actor=actor, order_id=oid, rule=None, status=o["status"])
    return {"customers": len(customers), "orders": len(orders)}


def load_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise ImportError_(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise ImportError_(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
