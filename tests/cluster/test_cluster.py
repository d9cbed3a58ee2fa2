"""Several replicas lose and duplicate nothing: 2 Rasa replicas and 2 action servers behind nginx (round robin,
nothing sticky) on PostgreSQL and Redis, started as production starts them (benchmarks/cluster.py).

* 500 linked buyers each send a burst of 5 simultaneous messages, 25 buyers at a time. 100 of them first bring a
  cancellation to its confirmation question, one message after another, and then confirm it five times at once
  (a double click, a channel's retries): it is filed exactly once. The other 400 send a cancellation's five
  messages at once, served in whatever order the lock grants. Every message is answered; every user message is in
  the tracker store exactly once; each conversation's events are whole (every user turn followed by the bot's
  turn, ending in action_listen, before the next user turn) and in time order; nothing is filed twice.
* Meanwhile the sweep runs on two "replicas" at once, three times each: every due transition is applied once.
* Then a Rasa replica is killed (SIGKILL) mid-burst: every message that was acknowledged (HTTP 200) is in the
  tracker store exactly once, and the survivor answers the rest.

Runs only under `make cluster-test` (ORDERDESK_CLUSTER_TEST=1; minutes of both cores). Ports: 20000-20099, or
from ORDERDESK_CLUSTER_PORT. The clock of the order store is fixed (ORDERDESK_NOW).
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from cluster import (ROOT, Cluster, conversation_problems, converse, model_path, play,  # noqa: E402
                     stored_events)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
SENDERS, BURST, AT_ONCE = 500, 5, 25
CONFIRMERS = 100  # the first 100 senders confirm a prepared cancellation five times at once
KILL_SENDERS = 100
SWEEP_ORDERS = 200
BASE_PORT = int(os.environ.get("ORDERDESK_CLUSTER_PORT", "20000"))


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def order_id(i: int) -> str:
    return f"71{i:014d}"


def sweep_order_id(i: int) -> str:
    return f"72{i:014d}"


def prepare(i: int) -> tuple[str, list[str]]:
    """Buyer i, one message after another, up to the cancellation's confirmation question."""
    return f"buyer-{i:04d}", [f"I want to cancel order {order_id(i)}", "yes please", "I placed a duplicate order"]


def burst(i: int) -> tuple[str, list[str]]:
    """Buyer i's five distinct simultaneous messages: for a confirmer, five confirmations; else a cancellation's
    messages (filed end to end when the lock serves them in this order)."""
    if i < CONFIRMERS:
        return f"buyer-{i:04d}", ["yes", "yes, file it", "yes do it", "ok yes", "yes go ahead"]
    return f"buyer-{i:04d}", [f"I want to cancel order {order_id(i)}", "yes please", "I placed a duplicate order", "yes, file it",
            "thank you"]


def data() -> dict:
    def order(oid: str, customer: str, **kw) -> dict:
        return {"id": oid, "customer": customer, "seller": "cluster-store", "item": "Desk lamp", "amount": "20.00",
                "currency": "USD", "payment_method": "card", "status": "awaiting_shipment",
                "placed_at": iso(NOW - timedelta(days=2)), "paid_at": iso(NOW - timedelta(days=2)),
                "shipped_at": None, "tracking_number": None, "delivered_at": None, "confirmed_at": None,
                "handling_days": 7, "delivery_days": 60, "cancellation": None, "dispute": None, **kw}

    total = SENDERS + KILL_SENDERS
    customers = [{"id": f"buyer-{i:04d}", "email": f"buyer{i}@example.com", "name": f"Buyer {i}",
                  "chat_ids": {"rest": f"buyer-{i:04d}"}} for i in range(total)]
    customers.append({"id": "sweep-owner", "email": "sweep@example.com", "name": "Sweep Owner", "chat_ids": {}})
    orders = [order(order_id(i), f"buyer-{i:04d}") for i in range(total)]
    # Cancellations the seller never answered: 80 h ago, past the 72 h window, so the sweep approves them.
    orders += [order(sweep_order_id(i), "sweep-owner", placed_at=iso(NOW - timedelta(days=5)),
                     paid_at=iso(NOW - timedelta(days=5)),
                     cancellation={"requested_at": iso(NOW - timedelta(hours=80)), "state": "pending",
                                   "reason": "wrong_product"})
               for i in range(SWEEP_ORDERS)]
    return {"customers": customers, "orders": orders}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained model at {model} (make model)")
    tmp = tmp_path_factory.mktemp("cluster")
    c = Cluster(tmp, model, base_port=BASE_PORT,
                env={"ORDERDESK_NOW": iso(NOW), "ORDERDESK_ACTION_TIMEOUT": "10",
                     "TF_INTRA_OP_PARALLELISM_THREADS": "1", "TF_INTER_OP_PARALLELISM_THREADS": "1"})
    try:
        c.prepare_databases()
        (tmp / "data.json").write_text(json.dumps(data()))
        c.orderdesk("import", str(tmp / "data.json"))
        started = time.monotonic()
        c.start()
        print(f"\ncluster up in {time.monotonic() - started:.0f} s; logs in {tmp}")
        yield c
    finally:
        c.stop()


def filed_twice(c: Cluster) -> list[str]:
    engine = create_engine(c.orders_url, future=True)
    try:
        with engine.connect() as conn:
            requests = conn.execute(text(
                "SELECT order_id, COUNT(*) FROM audit_log WHERE kind = 'request' AND detail LIKE '%\"filed\"%' "
                "GROUP BY order_id HAVING COUNT(*) > 1")).all()
            transitions = conn.execute(text(
                "SELECT order_id, rule, COUNT(*) FROM audit_log WHERE kind = 'transition' "
                "GROUP BY order_id, rule HAVING COUNT(*) > 1")).all()
    finally:
        engine.dispose()
    return [f"request filed twice: {r}" for r in requests] + [f"transition applied twice: {t}" for t in transitions]


def count(c: Cluster, sql: str) -> int:
    engine = create_engine(c.orders_url, future=True)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar_one()
    finally:
        engine.dispose()


def upstream_shares(c: Cluster) -> Counter:
    log = c.workdir / "nginx-access.log"
    return Counter(line.split()[0] for line in log.read_text().splitlines() if line.strip())


def fallback_answers(c: Cluster) -> int:
    """Action calls that failed and were answered with the fallback (orderdesk.servers.rasa logs each)."""
    return sum(f.read_text(errors="replace").count("answered with utter_action_unavailable")
               for f in c.workdir.glob("rasa-*.log"))


def sweepers(c: Cluster, replicas: int = 2, rounds: int = 3) -> list[subprocess.Popen]:
    """The sweep on every replica at once: `replicas` loops of `rounds` sweeps."""
    loop = f"for i in $(seq {rounds}); do {sys.executable} -m orderdesk.cli sweep || exit 1; done"
    return [subprocess.Popen(["bash", "-c", loop], cwd=ROOT, env=c.server_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(replicas)]


def test_bursts_over_both_replicas_lose_nothing_and_file_nothing_twice_while_the_sweep_runs_on_every_replica(
        cluster):
    prepared = asyncio.run(converse(cluster, list(range(CONFIRMERS)), AT_ONCE, prepare))
    unready = [s for s, turns in prepared.items() if "To confirm" not in json.dumps(turns[-1][2])]
    assert unready == [], f"{len(unready)} conversations did not reach the confirmation, e.g. {prepared[unready[0]]}"
    sweeps = sweepers(cluster)
    started = time.monotonic()
    sent = asyncio.run(play(cluster, list(range(SENDERS)), AT_ONCE, burst))
    elapsed = time.monotonic() - started
    sweep_out = [p.communicate(timeout=300) for p in sweeps]
    print(f"\n{SENDERS * BURST} messages from {SENDERS} senders in {elapsed:.0f} s "
          f"({SENDERS * BURST / elapsed:.1f}/s); upstreams {dict(upstream_shares(cluster))}")
    for sender, turns in prepared.items():  # the whole conversation is checked
        sent[sender] = [(m, status) for m, status, _ in turns] + sent[sender]

    assert [p.returncode for p in sweeps] == [0, 0], [err[-1000:] for _, err in sweep_out]
    problems = conversation_problems(sent, stored_events(cluster, sent), require_all=True)
    assert problems == [], f"{len(problems)} problems, first: {problems[:10]}"
    assert filed_twice(cluster) == []
    assert fallback_answers(cluster) == 0  # every action call reached an action server and succeeded
    confirmed = count(cluster, "SELECT COUNT(*) FROM cancellation_requests WHERE order_id LIKE '71%' "
                               f"AND order_id <= '{order_id(CONFIRMERS - 1)}'")
    assert confirmed == CONFIRMERS  # five confirmations at once: each filed, once (filed_twice above)
    # Every due transition applied exactly once, whichever sweeper got there first: the seller's silence
    # approved each cancellation and closed each order, one audit row each.
    assert count(cluster, "SELECT COUNT(*) FROM cancellation_requests WHERE order_id LIKE '72%' "
                          "AND state = 'auto_approved'") == SWEEP_ORDERS
    assert count(cluster, "SELECT COUNT(*) FROM orders WHERE id LIKE '72%' AND status = 'closed'") == SWEEP_ORDERS
    assert count(cluster, "SELECT COUNT(*) FROM audit_log WHERE kind = 'transition' "
                          "AND order_id LIKE '72%'") == SWEEP_ORDERS
    shares = upstream_shares(cluster)
    rasa = [shares[f"127.0.0.1:{p}"] for p in cluster.rasa_ports]
    assert min(rasa) > 0.3 * sum(rasa), f"the balancer did not spread the messages: {rasa}"


def test_a_replica_killed_mid_burst_loses_no_acknowledged_message(cluster):
    victim = "rasa-1"
    killed_at = []

    def progress(started: int) -> None:
        if started == AT_ONCE + 5 and not killed_at:  # the second wave of senders is under way
            asyncio.get_running_loop().call_later(1.0, kill)

    def kill() -> None:
        cluster.kill(victim)
        killed_at.append(time.monotonic())

    senders = list(range(SENDERS, SENDERS + KILL_SENDERS))
    sent = asyncio.run(play(cluster, senders, AT_ONCE, burst, on_progress=progress))

    assert killed_at and not cluster.alive(victim)
    statuses = Counter(s for messages in sent.values() for _, s in messages)
    print(f"\nwith {victim} killed mid-burst: statuses {dict(statuses)}")
    problems = conversation_problems(sent, stored_events(cluster, sent), require_all=False)
    assert problems == [], f"{len(problems)} problems, first: {problems[:10]}"
    assert filed_twice(cluster) == []
    assert statuses[200] >= 0.5 * KILL_SENDERS * BURST  # the survivor kept answering
    assert set(statuses) - {200} != set()  # the kill did cut some messages off (else it proved nothing)
