"""Rasa's SQL tracker store with its database work off the event loop (a Rasa plug-in: it imports Rasa).

Rasa 3.6's `SQLTrackerStore` runs SQLAlchemy synchronously inside its `async` methods: every round trip to
PostgreSQL (loading a conversation, the count query before a save, the inserts, the commit) blocks the Rasa
server's event loop, so under concurrency one sender's database work holds up every other sender's message.
This subclass keeps Rasa's queries, rows and results (loading reads only the event column and saving inserts
the rows in one Core statement, with no ORM object per row), and changes two things:

* the database work of `retrieve`, `retrieve_full_tracker`, `save` and `keys` runs on a small thread pool of its
  own (`loop.run_in_executor`), so the loop keeps serving other conversations while PostgreSQL answers;
  rebuilding the tracker from the loaded events stays on the loop, as in Rasa
  (`ORDERDESK_TRACKER_THREADS`, default 4, well within the engine's pool of `SQL_POOL_SIZE` connections, 50 by
  default; `0`: on the loop, as Rasa);
* `save` skips Rasa's count query when it knows the answer (`ORDERDESK_TRACKER_KNOWN_COUNT`, default on,
  `0`: Rasa's query on every save). Rasa's `save` writes `tracker.events[count:]`, where `count` is the number
  of the sender's stored events since its latest `SessionStarted` (the same query `retrieve` loads them with).
  Rasa's processor loads a conversation and saves it in one hold of the conversation's lock (the lock store
  serialises one sender's messages across every replica), so at that save the count is exactly the number of
  rows the load returned. That number travels with the loaded tracker, and is used once, by the first save for
  that sender after that load, and only if no other load of the sender happened in this process since;
  every other save (a second save of the same tracker, a tracker built elsewhere, a full-history tracker)
  runs Rasa's count query. A save with no events writes nothing whatever the count, as Rasa's does; a tracker
  created after a load found no rows starts from a count of 0.

* `retrieve` hands back the tracker this process saved last for the sender, instead of loading and replaying
  every event of the session, when the sender's newest stored row is still the one that save wrote
  (`ORDERDESK_TRACKER_CACHE`, the number of conversations kept, default 1000; `0`: every message loads, as
  Rasa). One query (the largest event id of the sender) checks it, so another replica's message in between,
  a deleted conversation or anything else written since sends the load to the database as before. A tracker is
  kept only when it is exactly what a load would return (see `reloads_as_is`), is handed out once (a second
  retrieve loads from the database), and is not used if it grew after its save. Saving still writes every
  new event: the database stays the record, and a replica that restarts or never saw the sender loads it.

The one case where the two differ is one Rasa does not support either: a save after another writer appended
to the same sender's conversation without the lock (or after the lock expired mid-message). Rasa would then skip
as many of this tracker's events as the other writer appended (losing them); this store writes the events this
tracker added since it was loaded.

Configure it in `endpoints.yml` in place of `type: SQL` (same settings):

    tracker_store:
      type: orderdesk.servers.trackerstore.ThreadedSQLTrackerStore
      dialect: postgresql
      url: 127.0.0.1
      db: rasa
"""
from __future__ import annotations

import asyncio
import itertools
import json
import logging
import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Iterable, Optional, TypeVar

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from . import fastjson

log = logging.getLogger(__name__)

THREADS_ENV = "ORDERDESK_TRACKER_THREADS"
KNOWN_COUNT_ENV = "ORDERDESK_TRACKER_KNOWN_COUNT"
CACHE_ENV = "ORDERDESK_TRACKER_CACHE"
DEFAULT_THREADS = 4
DEFAULT_CACHE = 1000  # conversations; a tracker of a busy session is some 50-200 KB
MAX_REMEMBERED = 10_000  # senders whose latest load is remembered; an older one falls back to the count query
# The attribute of a loaded tracker that carries (its load's token, rows loaded).
LOADED = "_orderdesk_stored_events"

T = TypeVar("T")


# A save of at most this many events is one INSERT statement (psycopg2 sends up to 1,000 rows a statement).
ONE_STATEMENT_ROWS = 500


def _one_statement_each(session: Any) -> None:
    """Run this session's statements in autocommit: each commits alone, and nothing is left to roll back when
    the session closes. Every round trip to PostgreSQL costs a thread of this store the GIL twice (releasing it
    and taking it back while the event loop runs the model), so a load is one round trip instead of three
    (BEGIN, SELECT, ROLLBACK) and a save with a known count one instead of three (BEGIN, INSERT, COMMIT). The
    connection gets its isolation level back when it returns to the pool."""
    session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _number(raw: Optional[str], default: int) -> int:
    try:
        return max(0, int(raw)) if raw not in (None, "") else default
    except ValueError:
        return default


def reloads_as_is(events: list[Any]) -> bool:
    """Whether loading the sender after saving these events gives these events, in this order.

    Rasa's load reads the sender's rows by id (the order they were saved in) from the timestamp of the latest
    `SessionStarted` on. So the saved list comes back whole when none of its events is older than its latest
    `SessionStarted` (a new sender's first message, or a new session begun in this message, has older events
    before it: the load starts later in the list)."""
    if not events:
        return False
    starts = [e.timestamp for e in events if isinstance(e, SessionStarted)]
    if not starts:
        return True
    start = max(starts)
    return all(e.timestamp >= start for e in events)


class ThreadedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose database work runs on a thread pool, and whose save skips the count query when
    the number of stored events is known from the load (see the module's text)."""

    def __init__(self, *args: Any, threads: Optional[int] = None, known_count: Optional[bool] = None,
                 cache: Optional[int] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        n = _number(os.environ.get(THREADS_ENV), DEFAULT_THREADS) if threads is None else threads
        self._executor = ThreadPoolExecutor(n, thread_name_prefix="tracker-store") if n > 0 else None
        self.known_count = (os.environ.get(KNOWN_COUNT_ENV) != "0") if known_count is None else known_count
        # sender -> (token, rows) of the latest load of the sender's current session in this process
        self._loads: dict[str, tuple[object, int]] = {}
        self.count_queries = 0  # saves that ran Rasa's count query (read by the tests)
        self.cache_size = _number(os.environ.get(CACHE_ENV), DEFAULT_CACHE) if cache is None else max(0, cache)
        # sender -> (newest event id after this process's save, the tracker saved, its events then, the domain)
        self._saved: OrderedDict[str, tuple[int, DialogueStateTracker, int, Any]] = OrderedDict()
        self.cache_hits = 0  # retrieves answered by the saved tracker (read by the tests)

    async def _off_loop(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            return fn(*args)
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    # ------------------------------------------------------------------ loading

    async def keys(self) -> Iterable[str]:
        return await self._off_loop(self._keys)

    def _keys(self) -> list[str]:
        with self.session_scope() as session:
            return [sender_id for (sender_id,) in session.query(self.SQLEvent.sender_id).distinct().all()]

    def _load(self, sender_id: str, fetch_events_from_all_sessions: bool) -> list[dict[str, Any]]:
        # Rasa's query (same filter, same order), reading only the event's JSON: no ORM object per row.
        with self.session_scope() as session:
            _one_statement_each(session)  # the SELECT alone: no BEGIN before it, no ROLLBACK after it
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
            return [fastjson.loads(data) for (data,) in query.with_entities(self.SQLEvent.data)]

    def _newest_id_in(self, session: Any, sender_id: str) -> Optional[int]:
        return session.execute(sa.select(sa.func.max(self.SQLEvent.id))
                               .where(self.SQLEvent.sender_id == sender_id)).scalar()

    def _newest_id(self, sender_id: str) -> Optional[int]:
        with self.session_scope() as session:
            _one_statement_each(session)
            return self._newest_id_in(session, sender_id)

    async def _kept(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker this process saved last for the sender, if nothing was stored for the sender since."""
        entry = self._saved.pop(sender_id, None)  # handed out once, whatever happens to it next
        if entry is None:
            return None
        newest, tracker, count, domain = entry
        if domain is not self.domain or len(tracker.events) != count:
            return None
        if await self._off_loop(self._newest_id, sender_id) != newest:
            return None
        self.cache_hits += 1
        if self.known_count:
            load = (object(), count)
            self._remember(sender_id, load)
            tracker.__dict__[LOADED] = load
        return tracker

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        if self.cache_size and not fetch_events_from_all_sessions:
            kept = await self._kept(sender_id)
            if kept is not None:
                return kept
        events = await self._off_loop(self._load, sender_id, fetch_events_from_all_sessions)
        load = None
        if self.known_count and not fetch_events_from_all_sessions:
            load = (object(), len(events))
            self._remember(sender_id, load)
        if self.domain and len(events) > 0:
            log.debug(f"Recreating tracker from sender id '{sender_id}'")
            tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
            if load is not None:
                tracker.__dict__[LOADED] = load
            return tracker
        if load is not None and events:  # rows, but no domain: nothing is known of the tracker saved next
            self._loads.pop(sender_id, None)
        log.debug(f"Can't retrieve tracker matching sender id '{sender_id}' from SQL storage. "
                  "Returning `None` instead.")
        return None

    def _remember(self, sender_id: str, load: tuple[object, int]) -> None:
        self._loads.pop(sender_id, None)
        self._loads[sender_id] = load
        if len(self._loads) > MAX_REMEMBERED:
            self._loads.pop(next(iter(self._loads)))

    # ------------------------------------------------------------------ saving

    def stored_count(self, tracker: DialogueStateTracker) -> Optional[int]:
        """The number Rasa's count query would return at this save, when this process knows it for certain
        (the first save after the latest load of the sender here); None: ask the database."""
        load = tracker.__dict__.pop(LOADED, None)
        if not self.known_count or load is None or self._loads.get(tracker.sender_id) is not load:
            return None
        del self._loads[tracker.sender_id]
        return load[1]

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save: stream the events, then store `tracker.events[count:]`."""
        await self.stream_events(tracker)
        events = list(tracker.events)
        if not events:
            # islice(events, count, 0) is empty whatever the count: Rasa's save writes nothing either. A tracker
            # created right after a load that found no rows starts from 0 stored events.
            load = self._loads.get(tracker.sender_id)
            if self.known_count and load is not None and load[1] == 0 and LOADED not in tracker.__dict__:
                tracker.__dict__[LOADED] = load
            return
        start = self.stored_count(tracker)
        if start is not None and start >= len(events):
            return  # nothing new: Rasa's islice is empty too
        keep = bool(self.cache_size) and self.domain is not None and reloads_as_is(events)
        self._saved.pop(tracker.sender_id, None)
        newest = await self._off_loop(self._store, tracker.sender_id, events, start, keep)
        if keep and newest is not None:
            self._saved[tracker.sender_id] = (newest, tracker, len(events), self.domain)
            if len(self._saved) > self.cache_size:
                self._saved.popitem(last=False)
        log.debug(f"Tracker with sender_id '{tracker.sender_id}' stored to database")

    def _store(self, sender_id: str, events: list[Any], start: Optional[int], newest: bool = False) -> Optional[int]:
        """Insert the events beyond `start` (None: Rasa's count query); with `newest`, return the sender's newest
        event id afterwards (the lock keeps every other writer of this sender out until the message is done)."""
        with self.session_scope() as session:
            if start is not None and len(events) - start <= ONE_STATEMENT_ROWS:
                # Known count, one INSERT: atomic by itself, so it commits alone (no BEGIN, no COMMIT round trip).
                _one_statement_each(session)
            if start is None:
                self.count_queries += 1
                start = self._event_query(session, sender_id, fetch_events_from_all_sessions=False).count()
            rows = []
            for event in itertools.islice(events, start, len(events)):
                data = event.as_dict()
                intent = data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY)
                rows.append({"sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                             "intent_name": intent, "action_name": data.get("name"), "data": json.dumps(data)})
            if rows:
                # Rasa's rows, inserted in one statement (the same columns the ORM would write, in this order).
                session.execute(self.SQLEvent.__table__.insert(), rows)
            last = self._newest_id_in(session, sender_id) if newest and rows else None
            session.commit()
            return last
