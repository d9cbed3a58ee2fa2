"""The action server runs synchronous actions (every one that queries the order database) off its event loop."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

from orderdesk.servers.actions import run_off_the_loop


def slow_action(dispatcher, tracker, domain):
    time.sleep(0.3)  # a slow query
    return [{"event": "slot", "name": "who", "value": tracker}]


async def async_action(dispatcher, tracker, domain):
    return []


def test_synchronous_actions_run_on_the_pool_and_keep_their_results():
    actions = {"slow": slow_action, "form": async_action}
    moved = run_off_the_loop(actions, ThreadPoolExecutor(4))

    async def run():
        ticks = 0

        async def ticker():
            nonlocal ticks
            for _ in range(20):
                await asyncio.sleep(0.01)
                ticks += 1

        started = time.monotonic()
        results = await asyncio.gather(*(actions["slow"](None, f"t{i}", {}) for i in range(4)), ticker())
        return results[:4], ticks, time.monotonic() - started

    results, ticks, elapsed = asyncio.run(run())
    assert moved == 1 and actions["form"] is async_action
    assert [r[0]["value"] for r in results] == ["t0", "t1", "t2", "t3"]
    assert ticks == 20  # the loop kept running while four 0.3 s actions ran
    assert elapsed < 1.0  # side by side, not one after another (1.2 s)
