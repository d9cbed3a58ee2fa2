"""Verification by order number and email: bound to the conversation's session, idle expiry, and the
lock-out (5 failures per order number in an hour from any sender, or per conversation), on SQLite and
PostgreSQL, with the clock moved by hand at the boundaries."""
from __future__ import annotations

from datetime import timedelta

import pytest

from orderdesk.repository import UnitOfWork
from orderdesk.verification import (
    IDLE,
    MAX_FAILURES,
    WINDOW,
    Verification,
    VerificationFailed,
    VerificationLocked,
)
from support import NOW, payload

OID, OTHER = "1000000001", "1000000002"


class Clock:
    def __init__(self):
        self.now = NOW

    def __call__(self):
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def verification(engine, store, make_record, clock) -> Verification:
    store.load(payload(make_record(OID), make_record(OTHER)))
    return Verification(lambda: UnitOfWork(engine), clock)


def fail(v: Verification, oid: str = OID, conversation: str = "rest:attacker", times: int = 1) -> None:
    for _ in range(times):
        with pytest.raises(VerificationFailed):
            v.verify(oid, "wrong@example.com", conversation=conversation, session="s1")


def test_the_right_email_proves_the_customer_for_this_conversation_and_session_only(verification):
    got = verification.verify(OID, " C1@Example.com ", conversation="rest:buyer", session="s1")
    assert got.customer_id == "c1"
    assert verification.verified_customer("rest:buyer", "s1") == "c1"
    assert verification.verified_customer("rest:someone-else", "s1") is None
    assert verification.verified_customer("socketio:buyer", "s1") is None


def test_a_new_session_ends_the_verification(verification):
    verification.verify(OID, "c1@example.com", conversation="rest:buyer", session="s1")
    assert verification.verified_customer("rest:buyer", "s2") is None
    assert verification.verified_customer("rest:buyer", "s1") is None  # forgotten, not just hidden


def test_thirty_minutes_idle_ends_the_verification_and_each_use_extends_it(verification, clock):
    verification.verify(OID, "c1@example.com", conversation="rest:buyer", session="s1")
    clock.advance(IDLE - timedelta(seconds=1))
    assert verification.verified_customer("rest:buyer", "s1") == "c1"  # used: idle time starts again
    clock.advance(IDLE - timedelta(seconds=1))
    assert verification.verified_customer("rest:buyer", "s1") == "c1"
    clock.advance(IDLE)  # exactly 30 minutes idle: over
    assert verification.verified_customer("rest:buyer", "s1") is None


def test_an_unknown_order_and_a_wrong_email_are_the_same_failure(verification):
    errors = []
    for oid in ("1999999999", OID):
        with pytest.raises(VerificationFailed) as e:
            verification.verify(oid, "wrong@example.com", conversation="rest:x", session="s1")
        errors.append(str(e.value))
    assert errors[0] == errors[1]


def test_five_failures_for_one_order_lock_it_for_every_sender_even_with_the_right_email(verification, clock):
    for i in range(MAX_FAILURES - 1):
        fail(verification, conversation=f"rest:attacker-{i}")
    # Four failures: the fifth try is still checked.
    fail(verification, conversation="rest:attacker-4")
    with pytest.raises(VerificationLocked) as e:
        verification.verify(OID, "c1@example.com", conversation="rest:owner", session="s1")
    assert e.value.until == NOW + WINDOW
    assert verification.verified_customer("rest:owner", "s1") is None
    # Another order number is not locked for another conversation.
    assert verification.verify(OTHER, "c1@example.com", conversation="rest:owner", session="s1").customer_id == "c1"


def test_the_lock_lifts_exactly_an_hour_after_the_fifth_oldest_failure(verification, clock):
    fail(verification, times=MAX_FAILURES)
    clock.advance(WINDOW - timedelta(seconds=1))
    with pytest.raises(VerificationLocked):
        verification.verify(OID, "c1@example.com", conversation="rest:owner", session="s1")
    clock.advance(timedelta(seconds=1))
    assert verification.verify(OID, "c1@example.com", conversation="rest:owner", session="s1").customer_id == "c1"


def test_tries_while_locked_are_not_counted(verification, clock):
    fail(verification, times=MAX_FAILURES)
    for _ in range(10):
        with pytest.raises(VerificationLocked):
            verification.verify(OID, "wrong@example.com", conversation="rest:attacker", session="s1")
    clock.advance(WINDOW)
    verification.verify(OID, "c1@example.com", conversation="rest:owner", session="s1")


def test_five_failures_in_one_conversation_lock_it_for_every_order(verification, clock):
    for i in range(MAX_FAILURES):
        fail(verification, oid=f"199999999{i}", conversation="rest:scanner")
    with pytest.raises(VerificationLocked):
        verification.verify(OID, "c1@example.com", conversation="rest:scanner", session="s1")
    # The orders themselves are not locked for others: each had one failure.
    assert verification.verify(OID, "c1@example.com", conversation="rest:owner", session="s1").customer_id == "c1"


def test_failures_older_than_the_window_do_not_count(verification, clock):
    fail(verification, times=MAX_FAILURES - 1)
    clock.advance(WINDOW)
    fail(verification)  # one in the window now
    assert verification.locked_until(OID, "rest:attacker") is None


@pytest.mark.postgres
def test_a_burst_of_guesses_at_once_gets_no_more_than_five_tries(postgres_engine, clock):
    from concurrent.futures import ThreadPoolExecutor

    from orderdesk import db
    from orderdesk.runtime import wipe
    from support import Store, order_record

    wipe(postgres_engine)
    Store(postgres_engine).load(payload(order_record(OID)))
    v = Verification(lambda: UnitOfWork(postgres_engine), clock)

    def guess(i: int) -> str:
        try:
            v.verify(OID, f"guess{i}@example.com", conversation=f"rest:bot-{i}", session="s1")
        except VerificationLocked:
            return "locked"
        except VerificationFailed:
            return "failed"
        return "verified"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(guess, range(20)))
    assert results.count("failed") == MAX_FAILURES and results.count("locked") == 20 - MAX_FAILURES
    assert Store(postgres_engine).count(db.verification_attempts) == MAX_FAILURES
    wipe(postgres_engine)
