"""Shared fixtures for the store and CLI tests: databases, a fixed clock, services, import helpers.

`engine` runs every store test twice: on a fresh SQLite file (a copy of one migrated
with `orderdesk.migrations.upgrade` at the start of the session) and on
PostgreSQL (a database created for this test session on the server at
ORDERDESK_TEST_POSTGRES_URL, default postgresql://postgres@127.0.0.1:5432/postgres,
and dropped at the end; tables are wiped before and after every test). The
PostgreSQL runs carry the `postgres` marker, so `pytest -m "not postgres"` leaves
them out. When the server can't be reached they are skipped, except in CI
(CI=true), where they fail: CI must prove them.

Nothing here reads the real clock: `support.NOW` is fixed and timezone-aware.
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from orderdesk import db
from orderdesk.migrations import upgrade
from orderdesk.repository import UnitOfWork
from orderdesk.runtime import wipe
from orderdesk.services import Services
from support import NOW, Store, order_record, payload

POSTGRES_ADMIN_URL = os.environ.get("ORDERDESK_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


# The test tiers, by folder (the markers are declared in pyproject.toml).
# A folder not named here gets no tier: `make test` runs it, `make test-fast` does not.
TIERS = {"unit": "unit", "policy": "unit", "store": "db", "cli": "db", "actions": "db", "nlu": "rasa",
         "server": "server", "scale": "server"}
TESTS = Path(__file__).resolve().parent


def tier(path: Path) -> Optional[str]:
    """The tier of a test file: its folder's, or `unit` for the checks at the top of tests/."""
    rel = Path(path).resolve().relative_to(TESTS)
    return TIERS.get(rel.parts[0]) if len(rel.parts) > 1 else "unit"


def pytest_collection_modifyitems(items):
    for item in items:
        name = tier(item.path)
        if name and not item.get_closest_marker("timeshift"):
            item.add_marker(getattr(pytest.mark, name))
        # A test that asks for the PostgreSQL database directly is a postgres test too.
        if "postgres_engine" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("postgres"):
            item.add_marker(pytest.mark.postgres)


# --------------------------------------------------------------------------- databases

@pytest.fixture(scope="session")
def postgres_engine() -> Engine:
    """A migrated database of its own on the PostgreSQL server, for the whole session."""
    admin_url = make_url(POSTGRES_ADMIN_URL)
    shown = admin_url.render_as_string(hide_password=True)
    try:
        admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure to connect means "not reachable"
        detail = (str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0]
        why = f"PostgreSQL not reachable at {shown}; CI runs these ({detail})"
        if os.environ.get("CI") == "true":
            raise RuntimeError(why + ". CI must run the PostgreSQL tests: start the server or set "
                               "ORDERDESK_TEST_POSTGRES_URL.") from e
        pytest.skip(why)
    name = f"orderdesk_test_{secrets.token_hex(6)}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = db.make_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        db.dispose_engines()  # engines the CLI or the runtime built for this database
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A SQLite file migrated to head once; each test gets a copy (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "orderdesk.db"
    eng = db.make_engine(f"sqlite:///{path}")
    upgrade(eng)
    eng.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture(params=BACKENDS)
def engine(request, tmp_path) -> Engine:
    """A migrated, empty order store: SQLite (a temp file) or PostgreSQL (wiped before and after)."""
    if request.param == "sqlite":
        path = tmp_path / "orderdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        eng = db.make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("postgres_engine")
    wipe(eng)
    yield eng
    wipe(eng)


@pytest.fixture
def database_url(engine) -> str:
    """The engine's URL, for code that builds its own engine (the CLI, the runtime)."""
    return engine.url.render_as_string(hide_password=False)


# --------------------------------------------------------------------------- services

@pytest.fixture
def now():
    return NOW


@pytest.fixture
def clock():
    return lambda: NOW


@pytest.fixture
def services(engine, clock) -> Services:
    """Services bound to the test engine, with the fixed clock (each call its own unit of work)."""
    return Services(uow=lambda: UnitOfWork(engine), clock=clock)


@pytest.fixture
def store(engine) -> Store:
    """Import payloads and read rows: `store.orders(make_record(...))`, `store.cancellation(oid)`."""
    return Store(engine)


@pytest.fixture
def make_record():
    """`make_record(oid, status, **fields)`: an import record (see `support.order_record`)."""
    return order_record


@pytest.fixture
def make_payload():
    return payload
