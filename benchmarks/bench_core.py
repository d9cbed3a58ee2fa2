"""Core figures: policy decisions per second, service latency, sweep throughput, memory.

    .venv/bin/python benchmarks/bench_core.py [--orders 5000] [--url sqlite:///...|postgresql://...]

Prints figures; asserts nothing (targets are read by people, not by tests).
Uses a throw-away database (a temp SQLite file unless --url is given: it is wiped!).
"""
from __future__ import annotations

import argparse
import copy
import statistics
import tempfile
import time
import tracemalloc
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import make_url

from orderdesk.demo import demo_payload
from orderdesk.importer import import_payload
from orderdesk.policy import decide
from orderdesk.runtime import services
from orderdesk.services import OPERATOR


def payload_of(n: int, now: datetime) -> dict:
    base = demo_payload(now)
    orders = []
    for i in range(n):
        o = copy.deepcopy(base["orders"][i % len(base["orders"])])
        o["id"] = f"9{i:015d}"
        if o.get("customer") == "other":
            o["customer"] = "demo"
        orders.append(o)
    return {"customers": base["customers"], "orders": orders}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=5000)
    ap.add_argument("--url")
    args = ap.parse_args()
    now = datetime(2026, 11, 22, 12, tzinfo=timezone.utc)
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    svc = services(url, clock=lambda: now)

    t = time.perf_counter()
    with svc.uow() as uow:
        uow.wipe()
        import_payload(payload_of(args.orders, now), uow, now)
        uow.commit()
    print(f"import {args.orders} orders: {time.perf_counter() - t:.2f} s")

    with svc.uow() as uow:
        snaps = [uow.orders.get(f"9{i:015d}") for i in range(min(args.orders, 2000))]
    t = time.perf_counter()
    rounds = 0
    while time.perf_counter() - t < 2.0:
        for o in snaps:
            decide(o, now)
        rounds += 1
    elapsed = time.perf_counter() - t
    tracemalloc.start()
    for o in snaps:
        decide(o, now)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"policy decide(): {rounds * len(snaps) / elapsed:,.0f} decisions/s, "
          f"{elapsed / (rounds * len(snaps)) * 1e6:.0f} us each (peak {peak / 1024:.0f} KiB traced for one pass)")

    lat = []
    for i in range(200):
        t = time.perf_counter()
        svc.explain(f"9{i:015d}", actor="bench", customer_id=OPERATOR)
        lat.append((time.perf_counter() - t) * 1000)
    print(f"service explain (read + audit row): p50 {statistics.median(lat):.2f} ms, p95 {pct(lat, .95):.2f} ms")

    lat = []
    for _ in range(100):
        t = time.perf_counter()
        svc.orders_for_question("demo", "cancellation_rejected")
        lat.append((time.perf_counter() - t) * 1000)
    print(f"service orders_for_question (the 50 most recent of {args.orders} orders, settled and ranked): "
          f"p50 {statistics.median(lat):.2f} ms, p95 {pct(lat, .95):.2f} ms")

    lat = []
    ids = [f"9{i:015d}" for i in range(args.orders) if i % 17 == 2][:200]  # awaiting_shipment demo rows
    for oid in ids:
        t = time.perf_counter()
        svc.request_cancellation(oid, "wrong_product", channel="bench", customer_id=OPERATOR)
        lat.append((time.perf_counter() - t) * 1000)
    print(f"service request_cancellation (file): p50 {statistics.median(lat):.2f} ms, p95 {pct(lat, .95):.2f} ms "
          f"({len(ids)} requests)")
    lat = []
    for oid in ids:
        t = time.perf_counter()
        svc.request_cancellation(oid, "wrong_product", channel="bench", customer_id=OPERATOR)
        lat.append((time.perf_counter() - t) * 1000)
    print(f"service request_cancellation (repeat, idempotent): p50 {statistics.median(lat):.2f} ms")

    t = time.perf_counter()
    changes = svc.sweep(at=now + timedelta(days=3))
    first = time.perf_counter() - t
    t = time.perf_counter()
    again = svc.sweep(at=now + timedelta(days=3))
    second = time.perf_counter() - t
    print(f"sweep over {args.orders} orders: {len(changes)} transitions in {first:.2f} s; "
          f"second run {len(again)} transitions in {second:.2f} s")
    print(f"database: {make_url(url).render_as_string(hide_password=True)}")


if __name__ == "__main__":
    main()
