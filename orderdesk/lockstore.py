"""An atomic Redis lock store for several Rasa replicas (a Rasa plug-in: it imports Rasa).

Rasa serialises the messages of one conversation with a ticket lock kept in its lock store. Rasa 3.6's
`RedisLockStore` keeps the whole lock as one JSON value and updates it read-modify-write from each replica, so
two replicas that take a ticket at the same moment can both believe they are served: simultaneous messages
from one sender are then handled in parallel and `SQLTrackerStore` drops one handler's events (RasaHQ/rasa
#9213; the fix in #11256 was reverted).

Here every step is one Lua script, so Redis runs it atomically:

* issue: `INCR` the conversation's ticket counter and add the ticket, with its expiry and the replica that
  holds it, to a sorted set;
* acquire: drop expired tickets and tickets of dead replicas; the ticket is served when it is the lowest one
  left (first come, first served, across every replica); once served, its lifetime counts from then, so a
  message that waited behind others still gets the whole lifetime to be handled; a ticket that expired while
  waiting raises `LockError`, as Rasa's does;
* release: remove the ticket; the keys go when no ticket is left, and every key carries a TTL.

A replica that dies (killed, out of memory) would block its senders' conversations until its tickets expire
(the lock lifetime, 60 s by default). So each replica keeps a liveness key alive from a thread of its own
(`liveness_seconds`, default 10 s; a thread, because Rasa runs the model on the event loop, which a burst can
keep busy for seconds), and tickets whose replica's key has gone are dropped: a dead replica blocks a
conversation for at most the liveness window.

Expiry uses Redis's own clock (`TIME`), never the replicas' clocks. Configure it in `endpoints.yml`:

    lock_store:
      type: orderdesk.lockstore.AtomicRedisLockStore
      url: 127.0.0.1
      port: 6379
      db: 1
      liveness_seconds: 10   # optional

The liveness check reads keys the script is not given (one per replica): fine on one Redis server or a
replicated pair, not on Redis Cluster.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import threading
from contextlib import asynccontextmanager
from typing import Any, AsyncGenerator, Optional

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

log = logging.getLogger(__name__)

KEY_PREFIX = "orderdesk:lock:"
DEFAULT_POLL_SECONDS = 0.02
DEFAULT_LIVENESS_SECONDS = 10.0

# KEYS: queue (score = ticket), counter, expiries (score = expiry ms), owners (hash ticket -> liveness key).
# Shared by the scripts: the server's time in milliseconds; removal of expired tickets and of the tickets of
# replicas whose liveness key has gone.
_PRELUDE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function drop(ticket)
  redis.call('ZREM', KEYS[1], ticket)
  redis.call('ZREM', KEYS[3], ticket)
  redis.call('HDEL', KEYS[4], ticket)
end
for _, ticket in ipairs(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)) do drop(ticket) end
for _, ticket in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local owner = redis.call('HGET', KEYS[4], ticket)
  if owner and redis.call('EXISTS', owner) == 0 then drop(ticket) end
end
"""
# ARGV: lifetime ms, the replica's liveness key.
_ISSUE = _PRELUDE + """
local ticket = redis.call('INCR', KEYS[2])
local lifetime = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], ticket, ticket)
redis.call('ZADD', KEYS[3], now + lifetime, ticket)
redis.call('HSET', KEYS[4], ticket, ARGV[2])
for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], 2 * lifetime) end
return ticket
"""
# ARGV: ticket, lifetime ms. Returns 1 when served (its lifetime starts again now), 0 while others are ahead,
# -1 when the ticket has expired or its replica was taken for dead.
_ACQUIRE = _PRELUDE + """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return -1 end
local first = redis.call('ZRANGE', KEYS[1], 0, 0)
if first[1] == ARGV[1] then
  local lifetime = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[3], now + lifetime, ARGV[1])
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], 2 * lifetime) end
  return 1
end
return 0
"""
# ARGV: ticket. Returns how many tickets are left.
_RELEASE = _PRELUDE + """
drop(ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1], KEYS[3], KEYS[4]) end
return left
"""


class _Liveness:
    """This replica's liveness key, kept alive by a daemon thread with a connection of its own."""

    def __init__(self, connection: dict[str, Any], key: str, seconds: float) -> None:
        self.key, self.ttl_ms = key, max(int(seconds * 1000), 100)
        self._connection = connection
        self._started = False
        self._guard = threading.Lock()
        self._stop = threading.Event()

    def ensure(self) -> None:
        """Mark this replica alive now (synchronously, so a ticket is never issued under a missing key)
        and start the thread on first use."""
        with self._guard:
            if self._started:
                return
            import redis

            self._client = redis.Redis(**self._connection)
            self._client.set(self.key, 1, px=self.ttl_ms)
            threading.Thread(target=self._beat, name="lock-liveness", daemon=True).start()
            self._started = True

    @property
    def started(self) -> bool:
        return self._started

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_ms / 4000):
            try:
                self._client.set(self.key, 1, px=self.ttl_ms)
            except Exception:  # noqa: BLE001 - Redis away: the lock calls report it; keep beating
                log.warning("lock store: could not renew this replica's liveness key")

    def stop(self) -> None:
        """Stop beating and remove the key (tests: a replica that died)."""
        self._stop.set()
        if self._started:
            self._client.delete(self.key)


class AtomicRedisLockStore(LockStore):
    """Rasa's ticket lock, with issue, acquire and release each atomic in Redis."""

    def __init__(self, endpoint_config: Any = None, *, host: str = "localhost", port: int = 6379, db: int = 1,
                 password: Optional[str] = None, username: Optional[str] = None, use_ssl: bool = False,
                 key_prefix: str = KEY_PREFIX, poll_seconds: float = DEFAULT_POLL_SECONDS,
                 socket_timeout: float = 10, liveness_seconds: float = DEFAULT_LIVENESS_SECONDS) -> None:
        if endpoint_config is not None:  # loaded by module path from endpoints.yml
            kw = dict(endpoint_config.kwargs or {})
            host = endpoint_config.url or host
            port, db = int(kw.get("port", port)), int(kw.get("db", db))
            # An unset secret substituted from the environment arrives as "": no password, not an empty one.
            password, username = kw.get("password") or password, kw.get("username") or username
            use_ssl = bool(kw.get("use_ssl", use_ssl))
            key_prefix = str(kw.get("key_prefix", key_prefix))
            poll_seconds = float(kw.get("poll_seconds", poll_seconds))
            socket_timeout = float(kw.get("socket_timeout", socket_timeout))
            liveness_seconds = float(kw.get("liveness_seconds", liveness_seconds))
        self._connection = dict(host=host, port=int(port), db=int(db), password=password, username=username,
                                ssl=use_ssl, socket_timeout=socket_timeout)
        self.key_prefix = key_prefix
        self.poll_seconds = poll_seconds
        self._clients: dict[int, Any] = {}  # one asyncio client per event loop
        self._sync: Any = None
        replica = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.liveness = _Liveness(self._connection, f"{key_prefix}replica:{replica}", liveness_seconds)
        super().__init__()

    # ------------------------------------------------------------------ Redis plumbing

    def _keys(self, conversation_id: str) -> list[str]:
        base = self.key_prefix + conversation_id
        return [base + ":queue", base + ":counter", base + ":expiry", base + ":owner"]

    def _client(self) -> Any:
        loop = id(asyncio.get_running_loop())
        client = self._clients.get(loop)
        if client is None:
            import redis.asyncio as aioredis

            client = self._clients[loop] = aioredis.Redis(**self._connection)
        return client

    async def _run(self, script: str, conversation_id: str, *args: Any) -> int:
        return int(await self._client().eval(script, 4, *self._keys(conversation_id), *args))

    def _sync_client(self) -> Any:
        if self._sync is None:
            import redis

            self._sync = redis.Redis(**self._connection)
        return self._sync

    # ------------------------------------------------------------------ the lock Rasa uses

    @asynccontextmanager
    async def lock(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME,
                   wait_time_in_seconds: float = DEFAULT_POLL_SECONDS) -> AsyncGenerator[TicketLock, None]:
        lifetime_ms = int(lock_lifetime * 1000)
        try:
            if not self.liveness.started:
                await asyncio.get_running_loop().run_in_executor(None, self.liveness.ensure)
            ticket = await self._run(_ISSUE, conversation_id, lifetime_ms, self.liveness.key)
        except Exception as e:  # noqa: BLE001 - Rasa expects LockError for any store failure
            raise LockError(f"Error while acquiring lock: {type(e).__name__}") from e
        try:
            wait = min(wait_time_in_seconds, self.poll_seconds)
            while True:
                state = await self._run(_ACQUIRE, conversation_id, ticket, lifetime_ms)
                if state == 1:
                    break
                if state < 0:
                    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
                await asyncio.sleep(wait)
            yield TicketLock(conversation_id)
        finally:
            try:
                await self._run(_RELEASE, conversation_id, ticket)
            except Exception:  # noqa: BLE001 - the ticket expires by itself
                log.warning("could not release lock ticket %s; it expires with its lifetime", ticket)

    # ------------------------------------------------------------------ the base class's interface

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        self.liveness.ensure()
        return int(self._sync_client().eval(_ISSUE, 4, *self._keys(conversation_id), int(lock_lifetime * 1000),
                                            self.liveness.key))

    def get_lock(self, conversation_id: str) -> Optional[TicketLock]:
        queue = self._sync_client().zrange(self._keys(conversation_id)[0], 0, -1)
        if not queue:
            return None
        return TicketLock(conversation_id)

    def is_someone_waiting(self, conversation_id: str) -> bool:
        return bool(self._sync_client().zcard(self._keys(conversation_id)[0]))

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._sync_client().eval(_RELEASE, 4, *self._keys(conversation_id), ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        self.finish_serving(conversation_id, ticket_number)

    def delete_lock(self, conversation_id: str) -> None:
        self._sync_client().delete(*self._keys(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:  # the state lives in Redis, written by the scripts
        return None
