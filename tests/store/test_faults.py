"""Faults: a locked database answers "unavailable" quickly and files nothing, then recovers by itself; a
database that is down at first is used as soon as it is up, without a restart; a filing killed with
SIGKILL midway leaves the whole request or none of it, and a retry files exactly once (PostgreSQL)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from orderdesk import db
from orderdesk.migrations import upgrade
from orderdesk.repository import UnitOfWork
from orderdesk.runtime import wipe
from orderdesk.services import Services, StoreUnavailable
from support import NOW, Store, order_record, payload

ROOT = Path(__file__).resolve().parents[2]
PAID = "1000000002"


def test_a_locked_sqlite_store_is_unavailable_within_the_lock_wait_and_then_recovers(tmp_path, monkeypatch):
    monkeypatch.setenv(db.LOCK_WAIT_ENV, "0.5")
    path = tmp_path / "locked.db"
    engine = db.make_engine(f"sqlite:///{path}")
    upgrade(engine)
    Store(engine).load(payload(order_record(PAID)))
    svc = Services(uow=lambda: UnitOfWork(engine), clock=lambda: NOW)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing for a long time
    try:
        start = time.monotonic()
        with pytest.raises(StoreUnavailable):
            svc.request_cancellation(PAID, "other", customer_id="c1")
        assert time.monotonic() - start < 5  # the lock wait (0.5 s), not SQLite's old 30 s
    finally:
        holder.rollback()
        holder.close()
    assert Store(engine).cancellation(PAID) is None  # nothing half-filed
    out = svc.request_cancellation(PAID, "other", customer_id="c1")  # no restart needed
    assert out.created and Store(engine).count(db.cancellation_requests) == 1
    engine.dispose()


def test_the_default_lock_wait_stays_below_the_action_timeout(monkeypatch):
    from orderdesk.servers.rasa import DEFAULT_TIMEOUT

    monkeypatch.delenv(db.LOCK_WAIT_ENV, raising=False)
    assert db.lock_wait_seconds() < DEFAULT_TIMEOUT / 2


@pytest.mark.postgres
def test_a_database_that_is_down_at_first_is_used_once_it_is_up(postgres_engine, monkeypatch):
    from actions.store import get_services, use_services

    admin_url = postgres_engine.url.set(database="postgres")
    name = f"{postgres_engine.url.database}_late"
    url = postgres_engine.url.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("ORDERDESK_DATABASE_URL", url)
    use_services(None)
    admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
    try:
        with pytest.raises(StoreUnavailable):
            get_services().customer_for_chat("rest", "x")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        assert get_services().customer_for_chat("rest", "x") is None  # the same process, no restart
    finally:
        use_services(None)
        db.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


CHILD = textwrap.dedent("""
    import sys, time
    from orderdesk import db
    from orderdesk.repository import UnitOfWork
    from orderdesk.services import Services
    from support import NOW

    engine = db.make_engine(sys.argv[1])
    original = UnitOfWork.commit

    def commit(self):
        if sys.argv[2] == "before":
            print("ready", flush=True)  # everything written, nothing committed
            time.sleep(600)
        original(self)
        print("ready", flush=True)  # committed, the service not yet returned
        time.sleep(600)

    UnitOfWork.commit = commit
    Services(uow=lambda: UnitOfWork(engine), clock=lambda: NOW).request_cancellation(
        sys.argv[3], "other", customer_id="c1", channel="rest")
""")


def kill_filing_at(url: str, when: str) -> None:
    env_path = f"{ROOT}:{ROOT / 'tests'}"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, url, when, PAID], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
    try:
        line = proc.stdout.readline()
        assert line.strip() == "ready", proc.stderr.read()
    finally:
        proc.kill()  # SIGKILL: no cleanup, no rollback from the client
        proc.wait(10)


@pytest.mark.postgres
@pytest.mark.parametrize("when, filed", [("before", False), ("after", True)])
def test_a_filing_killed_midway_leaves_all_or_nothing_and_a_retry_files_once(postgres_engine, when, filed):
    wipe(postgres_engine)
    store = Store(postgres_engine)
    store.load(payload(order_record(PAID)))
    status_before = store.order(PAID)["status"]
    url = postgres_engine.url.render_as_string(hide_password=False)

    kill_filing_at(url, when)

    requests = store.count(db.cancellation_requests)
    audits = store.count(db.audit_log, db.audit_log.c.kind == "request")
    assert (requests, audits) == ((1, 1) if filed else (0, 0))  # the request and its audit row, or neither
    assert store.order(PAID)["status"] == status_before
    svc = Services(uow=lambda: UnitOfWork(postgres_engine), clock=lambda: NOW)
    first = svc.request_cancellation(PAID, "other", customer_id="c1", channel="rest")  # the buyer retries
    again = svc.request_cancellation(PAID, "other", customer_id="c1", channel="rest")
    assert first.filed and first.created is (not filed) and not again.created
    assert store.count(db.cancellation_requests) == 1
    assert store.count(db.audit_log, db.audit_log.c.kind == "request") == 1
    wipe(postgres_engine)
