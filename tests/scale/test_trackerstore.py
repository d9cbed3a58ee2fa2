"""The threaded SQL tracker store (orderdesk.servers.trackerstore): the same rows as Rasa's SQLTrackerStore,
without the count query on the usual save, and the event loop free while PostgreSQL works.

Runs against the PostgreSQL server at ORDERDESK_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), in a database of its own; skipped when it is not reachable,
except under CI=true, where it fails.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from rasa.core.tracker_store import SQLTrackerStore, TrackerStore  # noqa: E402
from rasa.shared.core.domain import Domain  # noqa: E402
from rasa.shared.core.events import (ActionExecuted, BotUttered, SessionStarted, SlotSet,  # noqa: E402
                                     UserUttered)
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from orderdesk.servers.trackerstore import ThreadedSQLTrackerStore  # noqa: E402

pytestmark = pytest.mark.postgres

ADMIN_URL = os.environ.get("ORDERDESK_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
DOMAIN = Domain.from_yaml("""
version: "3.1"
intents: [greet, ask_refund]
slots:
  order_id: {type: text, influence_conversation: false, mappings: [{type: custom}]}
responses:
  utter_greet: [{text: hi}]
""")


@pytest.fixture(scope="module")
def database():
    """Two databases of their own (one per store kind), dropped at the end."""
    admin_url = make_url(ADMIN_URL)
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as e:  # noqa: BLE001 - any failure to connect means "not reachable"
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"PostgreSQL not reachable at {ADMIN_URL}; CI must run these") from e
        pytest.skip(f"PostgreSQL not reachable: {e}")
    names = [f"orderdesk_trackers_{secrets.token_hex(5)}" for _ in range(2)]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url, names
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def store(database, cls=ThreadedSQLTrackerStore, which: int = 0, **kw):
    url, names = database
    return cls(domain=DOMAIN, dialect="postgresql", host=url.host, port=url.port or 5432, db=names[which],
               username=url.username, password=url.password, **kw)


def rows(s: SQLTrackerStore, sender: str) -> list[tuple]:
    with s.session_scope() as session:
        found = session.query(s.SQLEvent).filter(s.SQLEvent.sender_id == sender).order_by(s.SQLEvent.id).all()
        return [(r.type_name, r.timestamp, r.intent_name, r.action_name, r.data) for r in found]


def turn(n: int, t: float) -> list:
    """A user turn and the bot's answer, with fixed timestamps."""
    return [UserUttered(f"message {n}", {"name": "ask_refund", "confidence": 0.9}, timestamp=t),
            SlotSet("order_id", f"81000000000000{n:02d}", timestamp=t + 0.1),
            ActionExecuted("utter_greet", timestamp=t + 0.2), BotUttered(f"answer {n}", timestamp=t + 0.3),
            ActionExecuted("action_listen", timestamp=t + 0.4)]


def session_start(t: float) -> list:
    return [ActionExecuted("action_session_start", timestamp=t), SessionStarted(timestamp=t),
            ActionExecuted("action_listen", timestamp=t + 0.01)]


async def message(s: TrackerStore, sender: str, events: list, saves: int = 1) -> None:
    """What Rasa's processor does with one message: load (or create) the tracker, add events, save."""
    tracker = await s.get_or_create_tracker(sender, append_action_listen=False)
    for e in events:
        tracker.update(e)
    for _ in range(saves):
        await s.save(tracker)


def conversation(start: float) -> list[tuple[list, int]]:
    """(events of one message, saves) in order: a new sender, turns, a second save, a new session."""
    return [(session_start(start) + turn(1, start + 1), 1), (turn(2, start + 2), 1), (turn(3, start + 3), 2),
            (session_start(start + 4) + turn(4, start + 5), 1), (turn(5, start + 6), 1), ([], 1),
            (session_start(start + 7), 1), (turn(6, start + 8), 1)]


def test_the_stored_rows_are_exactly_rasa_s_and_the_usual_save_skips_the_count_query(database):
    ours, rasa = store(database, which=0), store(database, SQLTrackerStore, which=1)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        for events, saves in conversation(1000.0):
            await message(ours, sender, events, saves)
            await message(rasa, sender, events, saves)
        return await ours.retrieve_full_tracker(sender), await rasa.retrieve_full_tracker(sender)

    full_ours, full_rasa = asyncio.run(play())
    assert rows(ours, sender) == rows(rasa, sender)
    assert len(rows(ours, sender)) == 3 * 3 + 6 * 5
    assert full_ours.events == full_rasa.events
    # One count query: the second save of one tracker (turn 3); every other save knew its count.
    assert ours.count_queries == 1


def test_with_the_known_count_off_every_save_asks_the_database(database):
    ours = store(database, known_count=False)
    sender = f"s-{secrets.token_hex(4)}"
    asyncio.run(message(ours, sender, session_start(10.0) + turn(1, 11.0)))
    asyncio.run(message(ours, sender, turn(2, 12.0)))
    assert ours.count_queries == 2
    assert len(rows(ours, sender)) == 13


def test_replicas_taking_turns_on_one_sender_store_every_event_once(database):
    """Two replicas (two stores on one database) handle one sender's messages alternately, as the lock store
    lets them: each save is right although the other replica appended since its own last load."""
    a, b = store(database), store(database)
    rasa = store(database, SQLTrackerStore, which=1)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        for i, (events, saves) in enumerate(conversation(2000.0)):
            await message((a, b)[i % 2], sender, events, saves)
            await message(rasa, sender, events, saves)

    asyncio.run(play())
    assert rows(a, sender) == rows(rasa, sender)


def test_a_later_load_of_the_sender_sends_the_earlier_tracker_s_save_to_the_count_query(database):
    """A tracker whose load is no longer the sender's latest in this process is saved with Rasa's count query;
    another replica's events appended in between are then counted as Rasa counts them."""
    ours, other = store(database), store(database)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        await message(ours, sender, session_start(30.0) + turn(1, 31.0))
        first = await ours.retrieve(sender)
        await ours.retrieve(sender)  # e.g. the HTTP API reading the conversation
        await message(other, sender, turn(2, 32.0))
        before = ours.count_queries
        for e in turn(3, 33.0):
            first.update(e)
        await ours.save(first)
        return ours.count_queries - before

    assert asyncio.run(play()) == 1


def test_the_production_endpoints_load_this_store(monkeypatch, database):
    from rasa.core.tracker_store import TrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    from orderdesk import ROOT

    url, names = database
    for name, value in {"RASA_DB_HOST": url.host, "RASA_DB_NAME": names[0], "RASA_DB_USER": url.username,
                        "RASA_DB_PASSWORD": url.password or "", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": "6379",
                        "REDIS_DB": "0", "REDIS_PASSWORD": "", "ORDERDESK_ACTIONS_URL": "http://127.0.0.1:1/webhook",
                        "ORDERDESK_ACTIONS_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    config = read_endpoint_config(str(ROOT / "deploy" / "endpoints.yml"), "tracker_store")
    created = TrackerStore.create(config, DOMAIN)
    inner = getattr(created, "_tracker_store", created)
    assert isinstance(inner, ThreadedSQLTrackerStore)


def _hold_table_lock(database, seconds: float, locked: threading.Event) -> threading.Thread:
    """Another connection locks the events table for `seconds`: every insert waits for it."""
    url, names = database
    engine = create_engine(url.set(database=names[0]))

    def hold():
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(text("LOCK TABLE events IN EXCLUSIVE MODE"))
                locked.set()
                time.sleep(seconds)
        engine.dispose()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


@pytest.mark.parametrize("threads", [4, 0])
def test_the_event_loop_keeps_ticking_while_a_save_waits_for_the_database(database, threads):
    """While PostgreSQL makes a save wait 0.6 s, the loop goes on serving others (threads=4); Rasa's way
    (threads=0, the database work on the loop) stops it for the whole wait."""
    s = store(database, threads=threads)
    sender = f"s-{secrets.token_hex(4)}"
    asyncio.run(message(s, sender, session_start(50.0)))

    async def run():
        tracker = await s.retrieve(sender)
        for e in turn(1, 51.0):
            tracker.update(e)
        ticks = 0
        done = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not done.is_set():
                await asyncio.sleep(0.01)
                ticks += 1

        locked = threading.Event()
        holder = _hold_table_lock(database, 0.6, locked)
        await asyncio.get_running_loop().run_in_executor(None, locked.wait, 5)
        task = asyncio.create_task(ticker())
        t0 = time.perf_counter()
        await s.save(tracker)
        waited = time.perf_counter() - t0
        done.set()
        await task
        holder.join()
        return ticks, waited

    ticks, waited = asyncio.run(run())
    assert waited >= 0.4  # the save did wait for the lock
    assert len(rows(s, sender)) == 3 + 5
    if threads:
        assert ticks >= 20, f"the loop ticked {ticks} times in {waited:.2f} s"
    else:
        assert ticks <= 3, f"the loop ticked {ticks} times in {waited:.2f} s"


# ---------------------------------------------------------------------------------------- the kept tracker

def _same_tracker(a, b) -> bool:
    return (a.sender_id == b.sender_id and [e.as_dict() for e in a.events] == [e.as_dict() for e in b.events]
            and a.current_state() == b.current_state())


def test_the_kept_tracker_is_what_a_load_would_return_at_every_message(database):
    """At every message of a conversation (new sessions and a second save included), the tracker ours hands
    back equals a load from the database by a store that keeps nothing."""
    ours, fresh = store(database, which=0), store(database, which=0, cache=0)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        compared = 0
        for events, saves in conversation(3000.0) + [(turn(7, 3010.0), 1), (turn(8, 3011.0), 1)]:
            expected = await fresh.retrieve(sender)
            tracker = await ours.get_or_create_tracker(sender, append_action_listen=False)
            if expected is not None:
                assert _same_tracker(tracker, expected)
                compared += 1
            for e in events:
                tracker.update(e)
            for _ in range(saves):
                await ours.save(tracker)
        return compared

    hits = ours.cache_hits
    assert asyncio.run(play()) == 9
    assert ours.cache_hits - hits >= 4


def test_messages_answered_from_the_kept_tracker_store_rasa_s_rows(database):
    ours, rasa = store(database, which=0), store(database, SQLTrackerStore, which=1)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        for events, saves in conversation(4000.0) + [(turn(7, 4010.0), 1), (turn(8, 4011.0), 1)]:
            await message(ours, sender, events, saves)
            await message(rasa, sender, events, saves)
        return await ours.retrieve(sender), await rasa.retrieve(sender)

    hits = ours.cache_hits
    got, expected = asyncio.run(play())
    assert ours.cache_hits - hits >= 4  # turns 2, 5, 7, 8 and the last retrieve came from the kept tracker
    assert rows(ours, sender) == rows(rasa, sender)
    assert _same_tracker(got, expected)


def test_another_replica_s_message_in_between_sends_the_load_to_the_database(database):
    a, b = store(database), store(database)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        await message(a, sender, session_start(50.0) + turn(1, 51.0))
        await message(a, sender, turn(2, 52.0))  # a keeps this tracker
        await message(b, sender, turn(3, 53.0))  # the other replica answers the next message
        hits = a.cache_hits
        tracker = await a.retrieve(sender)
        return tracker, a.cache_hits - hits

    tracker, hits = asyncio.run(play())
    assert hits == 0
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["message 1", "message 2", "message 3"]


def test_a_kept_tracker_is_handed_out_once_and_not_after_it_grew(database):
    ours = store(database)
    sender = f"s-{secrets.token_hex(4)}"

    async def play():
        await message(ours, sender, session_start(60.0) + turn(1, 61.0))
        await message(ours, sender, turn(2, 62.0))
        first = await ours.retrieve(sender)  # the kept one
        second = await ours.retrieve(sender)  # from the database: not the same object
        same = _same_tracker(first, second)
        for e in turn(3, 62.5):
            second.update(e)
        await ours.save(second)  # kept again
        kept = sender in ours._saved
        second.update(UserUttered("not saved", {"name": "greet", "confidence": 1.0}, timestamp=63.0))
        third = await ours.retrieve(sender)
        return first, second, third, same and kept

    first, second, third, same = asyncio.run(play())
    assert first is not second and same
    assert third is not second and "not saved" not in [getattr(e, "text", None) for e in third.events]


def test_a_new_session_or_a_new_sender_is_loaded_from_the_database_next_time(database):
    from orderdesk.servers.trackerstore import reloads_as_is

    assert reloads_as_is(session_start(1.0) + turn(1, 2.0))  # the session's start is as old as its start action
    # a new sender: Rasa sets a slot before the session starts, so the load starts later in the list
    assert not reloads_as_is([SlotSet("order_id", None, timestamp=0.5)] + session_start(1.0) + turn(1, 2.0))
    assert not reloads_as_is(session_start(1.0) + turn(1, 2.0) + session_start(3.0))  # a new session
    assert not reloads_as_is(session_start(5.0)[1:] + turn(1, 2.0))  # older than the session: not loaded
    assert reloads_as_is(turn(1, 2.0)) and not reloads_as_is([])


def test_with_the_cache_off_every_retrieve_loads(database):
    ours = store(database, cache=0)
    sender = f"s-{secrets.token_hex(4)}"
    asyncio.run(message(ours, sender, session_start(70.0) + turn(1, 71.0)))
    asyncio.run(message(ours, sender, turn(2, 72.0)))
    asyncio.run(message(ours, sender, turn(3, 73.0)))
    assert ours.cache_hits == 0 and not ours._saved
