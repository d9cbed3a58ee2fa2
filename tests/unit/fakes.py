"""An in-memory unit of work with the same repositories as `orderdesk.repository`, for testing
the services without a database (the "fake repository" of Architecture Patterns with Python).

Rows are kept as plain dicts keyed like the tables; `commit()` makes the working copy the
committed state, leaving the block without it throws the working copy away, as the real unit
of work does. `FakeStore.lost = True` makes every repository call raise what a driver raises
when the database goes away.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime
from typing import Any, Mapping, Optional

from sqlalchemy.exc import OperationalError

from orderdesk.errors import STORE_LOST, StoreUnavailable
from orderdesk.model import Cancellation, CancellationState, Dispute, DisputeState, Order, RefundKind, Status


class FakeStore:
    """The committed state every `FakeUnitOfWork` starts from."""

    def __init__(self):
        self.tables: dict[str, Any] = {
            "orders": {}, "customers": {}, "chat_links": {}, "sellers": set(), "cancellations": {},
            "disputes": {}, "refunds": {}, "handoffs": [], "audit": [],
        }
        self.lost = False
        self.commits = 0

    def uow(self) -> "FakeUnitOfWork":
        return FakeUnitOfWork(self)


class _Repo:
    def __init__(self, uow: "FakeUnitOfWork"):
        self._uow = uow

    @property
    def t(self) -> dict[str, Any]:
        if self._uow.store.lost:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return self._uow.tables


class FakeOrders(_Repo):
    def get(self, order_id: str, *, for_update: bool = False) -> Optional[Order]:
        o = self.t["orders"].get(order_id)
        if o is None:
            return None
        c, d = self.t["cancellations"].get(order_id), self.t["disputes"].get(order_id)
        return replace(
            o,
            cancellation=None if c is None else Cancellation(
                requested_at=c["requested_at"], state=CancellationState(c["state"]), reason=c["reason"],
                responded_at=c.get("responded_at"), tracking_number=c.get("tracking_number")),
            dispute=None if d is None else Dispute(
                opened_at=d["opened_at"], state=DisputeState(d["state"]), reason=d["reason"],
                refund=RefundKind(d["refund"]), amount=d.get("amount"), description=d.get("description", ""),
                escalated_at=d.get("escalated_at"), resolved_at=d.get("resolved_at")))

    def recent_orders(self, customer_id: str, limit: int = 50) -> list[Order]:
        mine = [o for o in self.t["orders"].values() if o.customer == customer_id]
        mine.sort(key=lambda o: o.id)
        mine.sort(key=lambda o: o.placed_at, reverse=True)
        return [self.get(o.id) for o in mine[:limit]]

    def any(self) -> bool:
        return bool(self.t["orders"])

    def save_order(self, o: Order, now: datetime) -> None:
        self.t["orders"][o.id] = replace(o, cancellation=None, dispute=None)
        if o.cancellation is not None and o.id in self.t["cancellations"]:
            c = o.cancellation
            self.t["cancellations"][o.id].update(state=c.state.value, responded_at=c.responded_at,
                                                 tracking_number=c.tracking_number)
        if o.dispute is not None and o.id in self.t["disputes"]:
            d = o.dispute
            self.t["disputes"][o.id].update(state=d.state.value, escalated_at=d.escalated_at,
                                            resolved_at=d.resolved_at)

    def put(self, order_id: str, values: Mapping[str, Any], now: datetime) -> None:
        raise NotImplementedError("the importer is tested on a real database")

    def ids_to_sweep(self) -> list[str]:
        ids = {o.id for o in self.t["orders"].values() if o.status not in (Status.COMPLETED, Status.CLOSED)}
        ids |= {oid for oid, d in self.t["disputes"].items() if d["state"] == DisputeState.OPEN.value}
        return sorted(ids)


class FakeCustomers(_Repo):
    def email(self, customer_id: str) -> Optional[str]:
        c = self.t["customers"].get(customer_id)
        return c["email"] if c else None

    def exists(self, customer_id: str) -> bool:
        return customer_id in self.t["customers"]

    def put(self, customer_id: str, *, email: str, name: str) -> None:
        self.t["customers"][customer_id] = {"email": email, "name": name}

    def for_chat(self, channel: str, chat_id: str) -> Optional[str]:
        return self.t["chat_links"].get((channel, chat_id))

    def chat_ids(self, customer_id: str) -> dict[str, str]:
        return {ch: chat for (ch, chat), cid in sorted(self.t["chat_links"].items()) if cid == customer_id}

    def set_chat_ids(self, customer_id: str, chat_ids: Mapping[str, str]) -> None:
        for key in [k for k, cid in self.t["chat_links"].items() if cid == customer_id]:
            del self.t["chat_links"][key]
        for channel, chat_id in chat_ids.items():
            self.link(customer_id, channel, chat_id)

    def link(self, customer_id: str, channel: str, chat_id: str) -> None:
        links = self.t["chat_links"]
        for key in [k for k, cid in links.items() if k[0] == channel and (cid == customer_id or k[1] == chat_id)]:
            del links[key]
        links[(channel, chat_id)] = customer_id

    def unlink(self, customer_id: str, channel: str, chat_id: str) -> bool:
        if self.t["chat_links"].get((channel, chat_id)) != customer_id:
            return False
        del self.t["chat_links"][(channel, chat_id)]
        return True


class FakeSellers(_Repo):
    def ensure(self, seller_id: str) -> None:
        self.t["sellers"].add(seller_id)


class _FakeOnePerOrder(_Repo):
    table = ""

    def add(self, **values: Any) -> bool:
        rows = self.t[self.table]
        if values["order_id"] in rows:
            return False
        rows[values["order_id"]] = dict(values)
        return True

    def reference(self, order_id: str) -> Optional[str]:
        row = self.t[self.table].get(order_id)
        return row["reference"] if row else None

    def replace(self, order_id: str, values: Optional[Mapping[str, Any]]) -> None:
        self.t[self.table].pop(order_id, None)
        if values:
            self.t[self.table][order_id] = {"order_id": order_id, **values}


class FakeCancellations(_FakeOnePerOrder):
    table = "cancellations"


class FakeDisputes(_FakeOnePerOrder):
    table = "disputes"

    def escalated_by(self, order_id: str, who: str) -> None:
        self.t["disputes"][order_id]["escalated_by"] = who


class FakeRefunds(_FakeOnePerOrder):
    table = "refunds"

    def exists(self, order_id: str) -> bool:
        return order_id in self.t["refunds"]


class FakeHandoffs(_Repo):
    def add(self, **values: Any) -> None:
        self.t["handoffs"].append(dict(values))


class FakeAudit(_Repo):
    def record(self, *, at: datetime, kind: str, actor: str, order_id: Optional[str] = None,
               rule: Optional[str] = None, effective_at: Optional[datetime] = None, **detail: Any) -> None:
        self.t["audit"].append({"at": at, "effective_at": effective_at, "order_id": order_id, "kind": kind,
                                "actor": actor, "rule": rule, "detail": detail})


class FakeRequests(_Repo):
    def all(self) -> list[dict[str, Any]]:
        rows = [{"reference": r["reference"], "order_id": r["order_id"], "kind": kind, "state": r["state"],
                 "filed_at": r[filed]}
                for kind, table, filed in (("cancellation", "cancellations", "requested_at"),
                                           ("dispute", "disputes", "opened_at"))
                for r in self.t[table].values()]
        rows += [{"reference": h["reference"], "order_id": h["order_id"], "kind": "handoff", "state": h["state"],
                  "filed_at": h["created_at"]} for h in self.t["handoffs"]]
        rows.sort(key=lambda r: (r["filed_at"], r["reference"]), reverse=True)
        return rows


class FakeUnitOfWork:
    def __init__(self, store: FakeStore):
        self.store = store

    def __enter__(self) -> "FakeUnitOfWork":
        self.tables = copy.deepcopy(self.store.tables)
        self.orders, self.customers, self.sellers = FakeOrders(self), FakeCustomers(self), FakeSellers(self)
        self.cancellations, self.disputes, self.refunds = FakeCancellations(self), FakeDisputes(self), FakeRefunds(self)
        self.handoffs, self.audit, self.requests = FakeHandoffs(self), FakeAudit(self), FakeRequests(self)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.tables = copy.deepcopy(self.store.tables)
        if isinstance(exc, OperationalError):
            raise StoreUnavailable(STORE_LOST) from exc

    def commit(self) -> None:
        self.store.tables = copy.deepcopy(self.tables)
        self.store.commits += 1

    def rollback(self) -> None:
        self.tables = copy.deepcopy(self.store.tables)

    def wipe(self) -> None:
        for name, table in self.tables.items():
            table.clear()
