"""An action's units of work share one connection (orderdesk.db.one_connection): each keeps its own
transaction (a commit stays, the rest rolls back), the pool is asked once, and a connection that failed is
not used again. On SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from orderdesk import db
from orderdesk.errors import StoreUnavailable
from orderdesk.repository import UnitOfWork
from orderdesk.runtime import wipe
from orderdesk.services import Services


def _checkouts(engine) -> list[int]:
    seen = [0]

    def count(*_):
        seen[0] += 1

    event.listen(engine, "checkout", count)
    return seen


def _customers(engine) -> int:
    with UnitOfWork(engine) as uow:
        return uow.session.execute(select(func.count()).select_from(db.customers)).scalar()


def _add_customer(uow: UnitOfWork, cid: str) -> None:
    uow.session.execute(db.customers.insert().values(id=cid, email=f"{cid}@example.com", name=cid))


def test_units_of_work_take_turns_on_one_connection_each_with_its_own_transaction(engine):
    seen = _checkouts(engine)
    with db.one_connection():
        with UnitOfWork(engine) as uow:
            _add_customer(uow, "kept")
            uow.commit()
        with UnitOfWork(engine) as uow:
            _add_customer(uow, "rolled-back")  # not committed
        with UnitOfWork(engine) as uow:
            inside = uow.session.execute(select(db.customers.c.id)).scalars().all()
    assert inside == ["kept"]
    assert seen[0] == 1  # three units of work, one checkout
    assert _customers(engine) == 1


def test_nothing_is_checked_out_when_no_unit_of_work_opens(engine):
    seen = _checkouts(engine)
    with db.one_connection():
        pass
    assert seen[0] == 0


def test_a_unit_of_work_opened_inside_another_gets_a_connection_of_its_own(postgres_engine):
    # PostgreSQL only: on SQLite two writers at once wait for each other, with or without a shared connection
    engine = postgres_engine
    wipe(engine)
    seen = _checkouts(engine)
    with db.one_connection():
        with UnitOfWork(engine) as outer:
            _add_customer(outer, "outer")
            with UnitOfWork(engine) as inner:
                inner_sees = inner.session.execute(select(func.count()).select_from(db.customers)).scalar()
                _add_customer(inner, "inner")
                inner.commit()
            outer.commit()
            outer_connection = outer.session.connection()
        with UnitOfWork(engine) as after:
            assert after.session.connection() is outer_connection  # the shared one, free again
    assert inner_sees == 0  # the outer transaction was not committed yet: another connection
    assert seen[0] == 2 and _customers(engine) == 2
    wipe(engine)


def test_a_failed_connection_is_dropped_and_the_next_unit_of_work_checks_out_another(engine):
    seen = _checkouts(engine)
    with db.one_connection() as shared:
        with UnitOfWork(engine) as uow:
            first = uow.session.connection()
        shared.connection.invalidate()  # what a lost server does to it
        with UnitOfWork(engine) as uow:
            _add_customer(uow, "after")
            uow.commit()
            second = uow.session.connection()
    assert second is not first and seen[0] == 2
    assert _customers(engine) == 1


def test_a_store_that_cannot_be_reached_is_unavailable_inside_one_connection():
    broken = db.make_engine("postgresql://nobody@127.0.0.1:1/none")
    with db.one_connection(), pytest.raises(StoreUnavailable):
        with UnitOfWork(broken):
            pass


def test_services_inside_one_connection_answer_as_without_it(engine, clock):
    services = Services(uow=lambda: UnitOfWork(engine), clock=clock)
    with UnitOfWork(engine) as uow:
        _add_customer(uow, "c1")
        uow.customers.link("c1", "rest", "chat-1")
        uow.commit()
    seen = _checkouts(engine)
    with db.one_connection():
        linked = services.customer_for_chat("rest", "chat-1")
        stranger = services.customer_for_chat("rest", "chat-2")
    assert (linked, stranger) == ("c1", None) and seen[0] == 1
