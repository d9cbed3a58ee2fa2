"""The atomic Redis lock store: one conversation's messages are handled one at a time, in the order they
arrived, across every replica; a dead holder blocks its conversation no longer than the lock lifetime.

Runs against the Redis server at ORDERDESK_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); skipped when it
is not reachable, except under CI=true, where it fails. Each test uses keys of its own.
"""
from __future__ import annotations

import asyncio
import os
import secrets

import pytest

redis = pytest.importorskip("redis")

from rasa.core.lock_store import LockError, LockStore  # noqa: E402
from rasa.utils.endpoints import EndpointConfig  # noqa: E402

from orderdesk.lockstore import AtomicRedisLockStore  # noqa: E402

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("ORDERDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def redis_server():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as e:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"Redis not reachable at {REDIS_URL}; CI must run these") from e
        pytest.skip(f"Redis not reachable at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_server):
    p = f"test-{secrets.token_hex(4)}:"
    yield p
    for key in redis_server.scan_iter(p + "*"):
        redis_server.delete(key)


def replicas(prefix: str, n: int, **options) -> list[AtomicRedisLockStore]:
    """n stores with connections of their own, as n Rasa replicas would have."""
    kw = redis.connection.parse_url(REDIS_URL)
    return [AtomicRedisLockStore(host=kw.get("host", "127.0.0.1"), port=kw.get("port", 6379), db=kw.get("db", 0),
                                 key_prefix=prefix, poll_seconds=0.005, **options) for _ in range(n)]


async def burst(stores, conversation: str, per_store: int, hold: float = 0.003):
    """Every store sends `per_store` messages of one conversation at once; returns the largest number of
    handlers inside the lock at the same moment, and how many finished."""
    inside, most, done = 0, 0, 0

    async def handle(store):
        nonlocal inside, most, done
        async with store.lock(conversation, lock_lifetime=30):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(hold)
            inside -= 1
            done += 1

    await asyncio.gather(*(handle(s) for s in stores for _ in range(per_store)))
    return most, done


def test_a_burst_from_one_sender_over_several_replicas_is_handled_one_at_a_time(prefix):
    most, done = asyncio.run(burst(replicas(prefix, 4), "sender-1", per_store=10))

    assert (most, done) == (1, 40)


def test_different_conversations_do_not_wait_for_each_other(prefix):
    stores = replicas(prefix, 2)

    async def run():
        order = []

        async def hold(conv, seconds):
            async with stores[0].lock(conv, lock_lifetime=30):
                order.append(("in", conv))
                await asyncio.sleep(seconds)
                order.append(("out", conv))

        await asyncio.gather(hold("a", 0.2), hold("b", 0.01))
        return order

    order = asyncio.run(run())
    assert order.index(("out", "b")) < order.index(("out", "a"))


def test_messages_are_served_in_the_order_they_took_their_tickets(prefix):
    stores = replicas(prefix, 3)
    for store in stores:
        # A replica's first lock starts its liveness thread before taking a ticket; on a busy machine that start
        # let a later arrival take its ticket first. Started here, arrival order is ticket order.
        store.liveness.ensure()

    async def run():
        served = []

        async def handle(i):
            await asyncio.sleep(i * 0.01)  # arrive one after another, on alternating replicas
            async with stores[i % 3].lock("sender-2", lock_lifetime=30):
                served.append(i)
                await asyncio.sleep(0.02)

        await asyncio.gather(*(handle(i) for i in range(8)))
        return served

    assert asyncio.run(run()) == list(range(8))


def test_a_holder_that_died_blocks_the_conversation_only_until_its_ticket_expires(prefix, redis_server):
    dead, alive = replicas(prefix, 2)
    dead.issue_ticket("sender-3", lock_lifetime=0.3)  # took a ticket and never released it

    async def run():
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with alive.lock("sender-3", lock_lifetime=30):
            return loop.time() - start

    waited = asyncio.run(run())
    assert 0.2 <= waited < 2
    assert not list(redis_server.scan_iter(prefix + "sender-3:queue"))  # released and cleaned up


def test_a_replica_that_died_holding_a_ticket_blocks_its_sender_only_for_the_liveness_window(prefix):
    dead, alive = replicas(prefix, 2, liveness_seconds=0.4)
    dead.issue_ticket("sender-6", lock_lifetime=30)  # would block for 30 s on its lifetime alone
    dead.liveness.stop()  # the process is gone: nothing renews its liveness key

    async def run():
        loop = asyncio.get_running_loop()
        start = loop.time()
        async with alive.lock("sender-6", lock_lifetime=30):
            return loop.time() - start

    assert asyncio.run(run()) < 2


def test_a_live_holder_is_not_overtaken_however_long_past_the_liveness_window_it_holds(prefix):
    """The holder's event loop is busy for 1 s (the model runs on it): its liveness thread keeps it alive."""
    import threading
    import time

    slow, other = replicas(prefix, 2, liveness_seconds=0.3)
    order, entered = [], threading.Event()

    async def hold():
        async with slow.lock("sender-7", lock_lifetime=30):
            order.append("slow in")
            entered.set()
            end = time.monotonic() + 1.0
            while time.monotonic() < end:  # no await: the loop polls nothing, beats nothing
                pass
            order.append("slow out")

    holder = threading.Thread(target=lambda: asyncio.run(hold()))
    holder.start()
    entered.wait(10)

    async def wait():
        async with other.lock("sender-7", lock_lifetime=30):
            order.append("other in")

    asyncio.run(wait())
    holder.join(10)
    assert order == ["slow in", "slow out", "other in"]


def test_a_message_that_waited_gets_its_whole_lifetime_once_served(prefix):
    first, second, third = replicas(prefix, 3)

    async def run():
        inside, most = 0, 0

        async def handle(store, start, lifetime, hold):
            nonlocal inside, most
            await asyncio.sleep(start)
            async with store.lock("sender-8", lock_lifetime=lifetime):
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(hold)
                inside -= 1

        # The second waits 0.3 s of its 0.5 s, then holds 0.4 s: past its issue time + lifetime, but within
        # its lifetime from being served, so the third must still wait for it.
        await asyncio.gather(handle(first, 0, 30, 0.3), handle(second, 0.01, 0.5, 0.4), handle(third, 0.02, 30, 0.01))
        return most

    assert asyncio.run(run()) == 1


def test_a_waiter_whose_ticket_expired_gets_a_lock_error(prefix):
    first, second = replicas(prefix, 2)

    async def run():
        async def hold():
            async with first.lock("sender-4", lock_lifetime=30):
                await asyncio.sleep(0.5)

        async def wait_too_long():
            await asyncio.sleep(0.05)
            async with second.lock("sender-4", lock_lifetime=0.2):
                return "served"

        return await asyncio.gather(hold(), wait_too_long(), return_exceptions=True)

    _, outcome = asyncio.run(run())
    assert isinstance(outcome, LockError)


def test_rasa_loads_it_by_module_path_from_the_endpoints(prefix):
    kw = redis.connection.parse_url(REDIS_URL)
    config = EndpointConfig(type="orderdesk.lockstore.AtomicRedisLockStore", url=kw.get("host", "127.0.0.1"),
                            port=kw.get("port", 6379), db=kw.get("db", 0), key_prefix=prefix)
    store = LockStore.create(config)

    assert isinstance(store, AtomicRedisLockStore)
    most, done = asyncio.run(burst([store, store], "sender-5", per_store=5))
    assert (most, done) == (1, 10)


# --------------------------------------------------------------------------- separate processes

def _replica_process(store_path: str, prefix: str, messages: int, start_ats: list[float]) -> None:
    """One replica: its own process, event loop and connections. At each of `start_ats` it handles `messages`
    messages of one sender (a new sender each time) at once."""
    import importlib
    import time

    module, _, name = store_path.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    kw = redis.connection.parse_url(REDIS_URL)
    if name == "AtomicRedisLockStore":
        store = cls(host=kw.get("host", "127.0.0.1"), port=kw.get("port", 6379), db=kw.get("db", 0),
                    key_prefix=prefix, poll_seconds=0.005)
    else:
        store = cls(host=kw.get("host", "127.0.0.1"), port=kw.get("port", 6379), db=kw.get("db", 0),
                    key_prefix=prefix.replace(":", "").replace("-", ""))
    counter = redis.Redis.from_url(REDIS_URL)

    async def handle(conversation):
        async with store.lock(conversation, lock_lifetime=30, wait_time_in_seconds=0.005):
            if counter.incr(prefix + "inside") > 1:
                counter.incr(prefix + "overlaps")
            await asyncio.sleep(0.002)
            counter.decr(prefix + "inside")
            counter.incr(prefix + "done")

    async def main():
        for burst_no, start_at in enumerate(start_ats):
            await asyncio.sleep(max(0.0, start_at - time.time()))
            await asyncio.gather(*(handle(f"sender-{burst_no}") for _ in range(messages)), return_exceptions=True)

    asyncio.run(main())


def run_replicas(store_path: str, prefix: str, processes: int = 3, messages: int = 6, rounds: int = 5):
    """`rounds` bursts, each of `messages` simultaneous messages per replica for one sender."""
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("spawn")
    client = redis.Redis.from_url(REDIS_URL)
    first = time.time() + 15  # time for every replica to start (each imports Rasa); then a burst a second
    start_ats = [first + r for r in range(rounds)]
    procs = [ctx.Process(target=_replica_process, args=(store_path, prefix, messages, start_ats))
             for _ in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    return int(client.get(prefix + "overlaps") or 0), int(client.get(prefix + "done") or 0)


def test_replicas_in_separate_processes_never_handle_one_sender_twice_at_once(prefix):
    overlaps, done = run_replicas("orderdesk.lockstore.AtomicRedisLockStore", prefix)

    assert (overlaps, done) == (0, 3 * 6 * 5)
