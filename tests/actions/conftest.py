"""Fixtures for the action tests: a real, migrated SQLite store loaded with the demo data,
injected into the actions with `actions.store.use_services`, on a fixed clock.

Self-contained on purpose (nothing from tests/conftest.py): each test gets a fresh temp-file
database, and the actions are pointed back at the default store afterwards.
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from sqlalchemy import func, select

# `actions` is a top-level package of the project, not an installed one: `python -m pytest` from the
# project root finds it; plain `pytest` (or another working directory) needs the root on the path.
from orderdesk import ROOT  # noqa: E402

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from actions.store import use_services  # noqa: E402
from botkit import NOW, Result, load_domain, make_tracker, rendering_problems, run_action  # noqa: E402
from orderdesk import db  # noqa: E402
from orderdesk.demo import demo_payload  # noqa: E402
from orderdesk.importer import import_payload  # noqa: E402
from orderdesk.migrations import upgrade  # noqa: E402
from orderdesk.repository import UnitOfWork  # noqa: E402
from orderdesk.services import Services  # noqa: E402


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return load_domain()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory) -> Path:
    """A SQLite file migrated to head and loaded with the demo data as of NOW (built once)."""
    path = tmp_path_factory.mktemp("actions") / "demo.db"
    engine = db.make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with UnitOfWork(engine) as uow:
        import_payload(demo_payload(NOW), uow, NOW)
        uow.commit()
    engine.dispose()  # the last connection closing checkpoints the WAL into the file
    assert not path.with_name(path.name + "-wal").exists(), "copies of the file would miss the WAL"
    return path


@pytest.fixture
def action_engine(demo_database, tmp_path):
    """This test's own copy of the demo database."""
    path = tmp_path / "actions.db"
    shutil.copyfile(demo_database, path)
    engine = db.make_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()


@pytest.fixture
def svc(action_engine) -> Services:
    """The services the actions use for this test (fixed clock); reset to the default afterwards."""
    services = Services(uow=lambda: UnitOfWork(action_engine), clock=lambda: NOW)
    use_services(services)
    yield services
    use_services(None)


@pytest.fixture
def tracker() -> Callable[..., Any]:
    """`tracker(slots=..., intent=..., entities={"order_number": ...}, active_loop=...)`: a real Tracker."""
    return make_tracker


@pytest.fixture
def run(domain, svc) -> Callable[..., Result]:
    """`run(ActionX(), tracker)`: run an action against the test store; returns its messages and events.

    Every message it sends must be a response in domain.yml whose placeholders Rasa can fill.
    """
    def go(action, trk) -> Result:
        result = run_action(action, trk, domain)
        assert rendering_problems(result, domain) == [], result
        return result

    return go


@pytest.fixture
def load(action_engine) -> Callable[[dict[str, Any]], None]:
    """`load(payload)`: import more customers and orders into the test store."""
    def imp(payload: dict[str, Any]) -> None:
        with UnitOfWork(action_engine) as uow:
            import_payload(payload, uow, NOW)
            uow.commit()

    return imp


@pytest.fixture
def rows(action_engine) -> Callable[..., list[dict[str, Any]]]:
    """`rows(db.disputes, db.disputes.c.order_id == oid)`: rows of a table in the test store."""
    def read(table, *where) -> list[dict[str, Any]]:
        q = select(table)
        if where:
            q = q.where(*where)
        with action_engine.connect() as conn:
            return [dict(r) for r in conn.execute(q.order_by(*table.primary_key.columns)).mappings()]

    return read


@pytest.fixture
def count(action_engine) -> Callable[..., int]:
    def n(table, *where) -> int:
        q = select(func.count()).select_from(table)
        if where:
            q = q.where(*where)
        with action_engine.connect() as conn:
            return conn.execute(q).scalar_one()

    return n
