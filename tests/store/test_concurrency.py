"""Many requests at once (double clicks, channel retries, several replicas): exactly one is filed.

Every thread has its own `Services` and so its own unit of work (session, connection,
transaction); a barrier releases them together. The 20-thread runs need PostgreSQL
(row locks, a real connection pool); SQLite, the embedded default, gets a smaller
run of the same tests, since it must not lose or duplicate requests either.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import pytest
from sqlalchemy import create_engine

from orderdesk import db
from orderdesk.demo import demo_payload
from orderdesk.repository import OrderRepository, UnitOfWork
from orderdesk.runtime import wipe
from orderdesk.services import OPERATOR, Services
from support import NOW, Store, ago, order_record, shipped_record

PAID = "1000000001"
SHIPPED = "1000000002"


def run_together(n: int, engine, call: Callable[[Services, int], Any]) -> list[Any]:
    """Run `call` in `n` threads at once, each with its own Services; re-raise the first failure."""
    barrier = threading.Barrier(n)

    def one(i: int) -> Any:
        services = Services(uow=lambda: UnitOfWork(engine), clock=lambda: NOW)
        barrier.wait(timeout=30)
        return call(services, i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        return [f.result(timeout=120) for f in futures]


@pytest.fixture
def pg_engine(postgres_engine):
    wipe(postgres_engine)
    yield postgres_engine
    wipe(postgres_engine)


@pytest.fixture
def pg_store(pg_engine):
    store = Store(pg_engine)
    store.orders(order_record(PAID), shipped_record(SHIPPED))
    return store


@pytest.fixture
def two_orders(store):
    store.orders(order_record(PAID), shipped_record(SHIPPED))
    return store


def filed_requests(store, request: str):
    return [r for r in store.audit(db.audit_log.c.kind == "request") if f'"request": "{request}"' in r["detail"]
            and '"result": "filed"' in r["detail"]]


def assert_one_cancellation(results, store):
    assert all(r.filed for r in results)
    assert sum(r.created for r in results) == 1
    assert {r.reference for r in results} == {f"CXL-{PAID}"}
    assert store.count(db.cancellation_requests) == 1
    assert len(filed_requests(store, "cancellation")) == 1


def assert_one_dispute(results, store):
    assert all(r.filed for r in results)
    assert sum(r.created for r in results) == 1
    assert {r.reference for r in results} == {f"DSP-{SHIPPED}"}
    assert store.count(db.disputes) == 1
    assert len(filed_requests(store, "dispute")) == 1


def cancel(services, i):
    return services.request_cancellation(PAID, "wrong_product", customer_id="c1", channel=f"retry{i}")


def dispute(services, i):
    return services.open_dispute(SHIPPED, reason="damaged", description=f"click {i}", customer_id="c1")


# --------------------------------------------------------------------------- PostgreSQL: 20 at once

@pytest.mark.postgres
def test_twenty_concurrent_cancellation_requests_for_one_order_leave_exactly_one(pg_engine, pg_store):
    results = run_together(20, pg_engine, cancel)
    assert_one_cancellation(results, pg_store)


@pytest.mark.postgres
def test_twenty_concurrent_disputes_for_one_order_leave_exactly_one(pg_engine, pg_store):
    results = run_together(20, pg_engine, dispute)
    assert_one_dispute(results, pg_store)


def everyone_reads_before_anyone_writes(monkeypatch, n: int) -> None:
    """Drop the row lock and hold each thread after its first read until all `n` have read."""
    barrier, local, get = threading.Barrier(n), threading.local(), OrderRepository.get

    def racing_get(self, order_id, for_update=False):
        order = get(self, order_id)
        if not getattr(local, "has_read", False):
            local.has_read = True
            barrier.wait(timeout=30)
        return order

    monkeypatch.setattr(OrderRepository, "get", racing_get)


@pytest.mark.postgres
def test_without_the_row_lock_the_unique_constraint_still_leaves_exactly_one(pg_engine, pg_store, monkeypatch):
    # All 20 read "nothing filed yet" and insert: 19 hit the unique constraint and answer
    # with the request the winner filed.
    lost_races = []
    after_race = Services._existing_after_race
    monkeypatch.setattr(Services, "_existing_after_race",
                        lambda self, *a: lost_races.append(1) or after_race(self, *a))

    # All 20 hold a connection at once here, more than the store's pool of 15 lends out.
    wide = create_engine(pg_engine.url, future=True, pool_size=20, max_overflow=0)
    try:
        everyone_reads_before_anyone_writes(monkeypatch, 20)
        assert_one_cancellation(run_together(20, wide, cancel), pg_store)
        assert len(lost_races) == 19

        everyone_reads_before_anyone_writes(monkeypatch, 20)
        assert_one_dispute(run_together(20, wide, dispute), pg_store)
    finally:
        wide.dispose()


@pytest.mark.postgres
def test_twenty_concurrent_seller_approvals_close_the_order_and_refund_once(pg_engine, pg_store):
    Services(uow=lambda: UnitOfWork(pg_engine), clock=lambda: NOW).request_cancellation(
        PAID, "other", at=ago(1), customer_id=OPERATOR)
    results = run_together(20, pg_engine, lambda s, i: s.seller_respond(PAID, approve=True, operator=OPERATOR))

    assert sum(r.filed for r in results) == 1
    assert {r.rule for r in results if not r.filed} == {"seller.already_approved"}
    assert pg_store.count(db.refunds) == 1


@pytest.mark.postgres
def test_twenty_concurrent_escalations_escalate_once(pg_engine, pg_store):
    Services(uow=lambda: UnitOfWork(pg_engine), clock=lambda: NOW).open_dispute(SHIPPED, reason="damaged",
                                                                                 at=ago(2), customer_id=OPERATOR)
    results = run_together(20, pg_engine, lambda s, i: s.escalate_dispute(SHIPPED, customer_id=OPERATOR))

    assert all(r.filed for r in results) and sum(r.created for r in results) == 1
    assert len(filed_requests(pg_store, "escalation")) == 1


@pytest.mark.postgres
def test_concurrent_sweeps_apply_each_transition_once(pg_engine):
    store = Store(pg_engine)
    store.load(demo_payload(NOW))
    results = run_together(8, pg_engine, lambda s, i: s.sweep())

    applied = sorted((c["order_id"], c["transition"]) for r in results for c in r)
    assert applied == sorted({(c["order_id"], c["transition"]) for r in results for c in r})
    audited = sorted((r["order_id"], r["rule"]) for r in store.audit(db.audit_log.c.kind == "transition"))
    assert audited == applied and len(applied) == 4
    assert store.count(db.refunds) == 1  # the order closed for not shipping in time


@pytest.mark.postgres
def test_twenty_concurrent_requests_for_twenty_orders_are_all_filed(pg_engine):
    store = Store(pg_engine)
    ids = [f"30000000{i:02d}" for i in range(20)]
    store.orders(*(order_record(oid) for oid in ids))
    results = run_together(20, pg_engine, lambda s, i: s.request_cancellation(ids[i], "other", customer_id=OPERATOR))

    assert all(r.created for r in results)
    assert store.count(db.cancellation_requests) == 20


# --------------------------------------------------------------------------- both backends, fewer threads

def test_concurrent_cancellation_requests_for_one_order_leave_exactly_one(engine, two_orders):
    assert_one_cancellation(run_together(5, engine, cancel), two_orders)


def test_concurrent_disputes_for_one_order_leave_exactly_one(engine, two_orders):
    assert_one_dispute(run_together(5, engine, dispute), two_orders)


def test_concurrent_requests_for_different_orders_are_all_filed(engine, store):
    ids = [f"30000000{i:02d}" for i in range(5)]
    store.orders(*(order_record(oid) for oid in ids))
    results = run_together(5, engine, lambda s, i: s.request_cancellation(ids[i], "other", customer_id=OPERATOR))

    assert all(r.created for r in results)
    assert store.count(db.cancellation_requests) == 5


def test_concurrent_sweeps_apply_each_transition_once_on_either_backend(engine, store):
    store.load(demo_payload(NOW))
    results = run_together(3, engine, lambda s, i: s.sweep())

    assert sum(len(r) for r in results) == 4
    assert len(store.audit(db.audit_log.c.kind == "transition")) == 4
