"""Our bot beside a plain Rasa bot, over the REST channel, at 1, 8 and 32 concurrent senders; then what a burst
loses with two replicas under Rasa's RedisLockStore and under ours.

    .venv/bin/python benchmarks/bench_servers.py [--levels 1,8,32] [--messages 48] [--stores production|memory]
                                                 [--plain both|memory|production] [--no-loss] [--base-port 20200]

* Ours: one Rasa server and one action server started as production starts them (REST bearer token, action
  server secret, the order database on PostgreSQL; `--stores production`: conversations in PostgreSQL and the
  lock in Redis via deploy/endpoints.yml, `memory`: both in memory like the plain bot). Scripted conversations:
  the three headline questions of a linked buyer, a cancellation filed end to end, a dispute opened end to end,
  a stranger verifying an order by its email. Every conversation has a buyer and orders of its own.
* The plain bot: `rasa init` (same Rasa, no custom actions), built once into var/bench/plain, stock REST. With ours
  on production stores it runs twice over (`--plain both`): on the same kind of stores (Rasa's own SQL tracker
  store on a PostgreSQL database of its own and Rasa's own RedisLockStore), and in memory as `rasa init` leaves
  it. Ours gets a table beside each: the first is like with like (the bots' own work), the second also counts
  what production stores cost.
* Each level runs the plain bot(s), then ours, `--rounds` times (3), so all see the same machine; the tables
  pool each bot's rounds. Per message p50/p95/p99, throughput,
  errors (non-200, empty answers, our fallback answer), and each server's peak resident memory.
* Loss: 2 Rasa replicas + 2 action servers behind nginx, bursts of 5 simultaneous messages from one sender,
  with each lock store: messages answered with an error, messages acknowledged but missing, stored twice.

Prints figures; asserts nothing. Ports: --base-port .. +299 (never 5005/5055/8080).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cluster import (PG_ADMIN_URL, REDIS_URL, ROOT, Cluster, _admin_sql, _get, check_ports_free,  # noqa: E402
                     conversation_problems, model_path, peak_memory_mb, play, stored_events)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
PLAIN_DIR = ROOT / "var" / "bench" / "plain"
FALLBACK = "couldn't finish that"
CUSTOMERS = 300  # buyers with orders of their own; a run uses about 50


TF_THREADS = [1]  # TensorFlow's intra- and inter-op threads per server; 0 leaves TensorFlow's default


def tf_threads() -> dict[str, str]:
    n = TF_THREADS[0]
    return {"TF_INTRA_OP_PARALLELISM_THREADS": str(n), "TF_INTER_OP_PARALLELISM_THREADS": str(n)} if n else {}


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


# --------------------------------------------------------------------------- data and scripts

def oid(kind: int, n: int) -> str:
    return f"7{kind}{n:014d}"


def bench_data(n: int) -> dict:
    def order(o: str, customer: str, **kw) -> dict:
        base = {"id": o, "customer": customer, "seller": "bench-store", "item": "Desk lamp", "amount": "20.00",
                "currency": "USD", "payment_method": "card", "status": "awaiting_shipment",
                "placed_at": iso(NOW - timedelta(days=2)), "paid_at": iso(NOW - timedelta(days=2)),
                "shipped_at": None, "tracking_number": None, "delivered_at": None, "confirmed_at": None,
                "handling_days": 7, "delivery_days": 60, "cancellation": None, "dispute": None}
        return {**base, **kw}

    customers, orders = [], []
    for i in range(n):
        c = f"bench-{i:05d}"
        customers.append({"id": c, "email": f"{c}@example.com", "name": f"Buyer {i}", "chat_ids": {"rest": c}})
        orders += [
            order(oid(1, i), c),  # awaiting shipment: cancellation with the seller's approval
            order(oid(2, i), c, status="payment_processing", placed_at=iso(NOW - timedelta(hours=3)),
                  paid_at=iso(NOW - timedelta(hours=3))),
            order(oid(3, i), c, status="awaiting_delivery", placed_at=iso(NOW - timedelta(days=66)),
                  paid_at=iso(NOW - timedelta(days=66)), shipped_at=iso(NOW - timedelta(days=62)),
                  tracking_number="YT2212345678901234"),  # nothing came in 60 days: dispute now
            order(oid(4, i), c, status="awaiting_delivery", placed_at=iso(NOW - timedelta(days=9)),
                  paid_at=iso(NOW - timedelta(days=9)), shipped_at=iso(NOW - timedelta(days=4)),
                  tracking_number="RB123456789CN",
                  cancellation={"requested_at": iso(NOW - timedelta(days=5)), "state": "rejected",
                                "reason": "duplicate_order", "responded_at": iso(NOW - timedelta(days=4)),
                                "tracking_number": "RB123456789CN"}),
        ]
    return {"customers": customers, "orders": orders}


def our_scripts(i: int) -> list[tuple[str, list[str]]]:
    """Conversations for buyer i (each its own sender): (sender, messages)."""
    c = f"bench-{i:05d}"
    return [
        (c, ["why is there no cancel button", "how do I get a refund", "the seller rejected my cancellation"]),
        (c, [f"I want to cancel order {oid(1, i)}", "yes please", "I placed a duplicate order", "yes, file it"]),
        (c, [f"I want to open a dispute for order {oid(3, i)}", "yes", "it never arrived",
             "nothing has come in two months", "full refund", "yes, open it"]),
        (f"stranger-{i:05d}", ["how do I get a refund", f"it's {oid(1, i)}", f"my email is {c}@example.com"]),
    ]


def plain_scripts(i: int) -> list[tuple[str, list[str]]]:
    """The rasa init bot's own stories and rules, so that every message has an answer."""
    s = f"plain-{i:05d}"
    return [(s + "a", ["hello", "I am sad", "yes"]), (s + "b", ["hi", "I am great", "goodbye"]),
            (s + "c", ["hey there", "very sad", "no"]), (s + "d", ["are you a bot?"])]


# --------------------------------------------------------------------------- servers

class Server:
    """A Rasa server (plus an action server for ours) on ports of its own."""

    def __init__(self, name: str, port: int) -> None:
        self.name, self.port, self.procs, self.token = name, port, {}, None
        self.database: Optional[str] = None  # a tracker database of its own, dropped by stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/rest/webhook"

    def memory_mb(self) -> dict[str, float]:
        return peak_memory_mb(self.procs)

    def stop(self) -> None:
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.database:
            try:
                _admin_sql(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            except Exception as e:  # noqa: BLE001 - reported, not fatal
                print(f"could not drop {self.database}: {e}", file=sys.stderr)


def build_plain_bot() -> Path:
    """`rasa init` once (it trains the model); later runs reuse it."""
    models = PLAIN_DIR / "models"
    found = sorted(models.glob("*.tar.gz")) if models.exists() else []
    if found:
        return found[-1]
    PLAIN_DIR.mkdir(parents=True, exist_ok=True)
    print("building the plain bot (rasa init, trains once)...", flush=True)
    subprocess.run([str(Path(sys.executable).parent / "rasa"), "init", "--no-prompt", "--init-dir", str(PLAIN_DIR)],
                   cwd=PLAIN_DIR, check=True, capture_output=True, timeout=1800)
    return sorted(models.glob("*.tar.gz"))[-1]


def plain_endpoints(log_dir: Path) -> tuple[Path, str]:
    """The plain bot deployed as ours is in production: Rasa's own SQL tracker store on a PostgreSQL database of its
    own and Rasa's own RedisLockStore (one replica, so its race cannot bite). Returns (endpoints.yml, database)."""
    from sqlalchemy.engine import make_url

    db = f"rasa_plain_{secrets.token_hex(4)}"
    _admin_sql(f'CREATE DATABASE "{db}"')
    pg, redis_url = make_url(PG_ADMIN_URL), make_url(REDIS_URL)
    path = log_dir / "endpoints-plain.yml"
    path.write_text(
        f"tracker_store:\n  type: SQL\n  dialect: postgresql\n  url: {pg.host or '127.0.0.1'}\n"
        f"  port: {pg.port or 5432}\n  db: {db}\n  username: {pg.username or 'postgres'}\n"
        + (f"  password: {pg.password}\n" if pg.password else "")
        + f"\nlock_store:\n  type: redis\n  url: {redis_url.host or '127.0.0.1'}\n  port: {redis_url.port or 6379}\n"
        f"  db: {redis_url.database or 0}\n  key_prefix: plain{secrets.token_hex(3)}\n")
    return path, db


def start_plain(port: int, log_dir: Path, stores: str = "memory") -> Server:
    """`memory`: as `rasa init` leaves it (conversations and the lock in the process); `production`: Rasa's SQL
    tracker store on PostgreSQL and its RedisLockStore, the stores ours uses in production."""
    server = Server("plain" if stores == "memory" else "plain-pg", port)
    check_ports_free([port])
    model = build_plain_bot()
    env = {**os.environ, **tf_threads()}
    argv = [str(Path(sys.executable).parent / "rasa"), "run", "--model", str(model), "--port", str(port),
            "--credentials", str(PLAIN_DIR / "credentials.yml")]
    if stores == "production":
        endpoints, server.database = plain_endpoints(log_dir)
        argv += ["--endpoints", str(endpoints)]
    server.procs["rasa"] = subprocess.Popen(
        argv, cwd=PLAIN_DIR, env=env, stdout=open(log_dir / f"{server.name}.log", "w"), stderr=subprocess.STDOUT)
    return server


# The per-message work of issue 11, each switched off: a new HTTP session per action call, states of the whole
# session, TED on every prediction, Rasa's event class lookup, the tracker store's database work on the event loop,
# Rasa's count query on every save, the rule policy's lookup through every rule, scipy's block builder for DIET's input,
# the standard library's JSON for action calls and stored events, dask's graph run, every slot in an action's answer,
# loading the tracker this server saved, a connection per unit of work, tf.function's lookup on every model call.
SWITCHES = {"pool": "ORDERDESK_HTTP_POOL", "states": "ORDERDESK_STATE_WINDOW", "ted": "ORDERDESK_TED_SHORTCUT",
            "events": "ORDERDESK_EVENT_TABLE", "dbthreads": "ORDERDESK_TRACKER_THREADS",
            "count": "ORDERDESK_TRACKER_KNOWN_COUNT", "rules": "ORDERDESK_RULE_INDEX",
            "sparse": "ORDERDESK_SPARSE_CONCAT", "json": "ORDERDESK_FAST_JSON", "graph": "ORDERDESK_GRAPH_ORDER",
            "slots": "ORDERDESK_SLOT_CHANGES", "cache": "ORDERDESK_TRACKER_CACHE",
            "connection": "ORDERDESK_SHARED_CONNECTION", "tfcall": "ORDERDESK_TF_CALL"}  # --without's names
ISSUE_11_OFF = {env: "0" for env in SWITCHES.values()}


def start_ours(base_port: int, log_dir: Path, stores: str, before: bool = False,
               off: Optional[dict[str, str]] = None) -> tuple[Server, Cluster]:
    """One replica of each, started by the cluster harness; `memory` swaps the stores for Rasa's in-memory ones.
    `before`: also as before the first speed work; `off`: environment switches (e.g. ISSUE_11_OFF)."""
    env = {"ORDERDESK_NOW": iso(NOW), **tf_threads(), **(off or {})}
    if before:
        env.update({"ORDERDESK_ACTION_THREADS": "0", "ORDERDESK_ACTION_VALIDATION": "rasa", **ISSUE_11_OFF})
    c = Cluster(log_dir / "ours", model_path(), base_port=base_port, rasa_replicas=1, action_servers=1, env=env)
    if stores == "memory":
        c.lock_store = "memory"
    c.check_ports_free()
    try:
        c.prepare_databases()
        data = Path(tempfile.mkdtemp()) / "bench.json"
        data.write_text(json.dumps(bench_data(CUSTOMERS)))
        c.orderdesk("import", str(data))
        for i in range(c.action_servers):
            c.start_action_server(i)
        c.start_rasa(0)
        c.start_balancer()
    except BaseException:
        c.stop()  # nothing left running on the ports when a start fails (nginx missing, say)
        raise
    server = Server("ours", c.rasa_ports[0])  # straight to the replica, as the plain bot is reached
    server.token = c.token
    server.procs = {"rasa": c.procs["rasa-0"], "actions": c.procs["actions-0"]}
    return server, c


def wait_up(servers: list[Server], timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    while not all(_get(f"http://127.0.0.1:{s.port}/") for s in servers):
        for s in servers:
            for role, p in s.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"{s.name} {role} stopped while starting")
        if time.monotonic() > deadline:
            raise RuntimeError("servers did not start")
        time.sleep(2)


# --------------------------------------------------------------------------- load

async def post(session, server: Server, sender: str, message: str) -> tuple[int, list, float]:
    import aiohttp

    headers = {"Authorization": f"Bearer {server.token}"} if server.token else {}
    start = time.perf_counter()
    try:
        async with session.post(server.url, json={"sender": sender, "message": message}, headers=headers,
                                timeout=aiohttp.ClientTimeout(total=120)) as r:
            body = await r.read()
            status = r.status
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        return 0, [], time.perf_counter() - start
    elapsed = time.perf_counter() - start
    try:
        replies = json.loads(body) if status == 200 else []
    except ValueError:
        replies = []
    return status, replies, elapsed


async def run_level(server: Server, scripts, concurrency: int, messages: int, first_id: int) -> dict:
    """`concurrency` senders, each playing whole conversations one after another, until `messages` were sent."""
    import aiohttp

    latencies, errors, sent = [], Counter(), 0
    next_id = first_id

    async def worker(session) -> None:
        nonlocal sent, next_id
        while sent < messages:
            i, next_id = next_id, next_id + 1
            for sender, conversation in scripts(i):
                for text in conversation:
                    if sent >= messages:
                        return
                    sent += 1
                    status, replies, elapsed = await post(session, server, f"{sender}-{first_id}" if server.name.startswith("plain") else sender, text)
                    latencies.append(elapsed)
                    if status != 200:
                        errors[f"http {status}"] += 1
                    elif not replies:
                        errors["no answer"] += 1
                    elif any(FALLBACK in (r.get("text") or "") for r in replies):
                        errors["fallback answer"] += 1

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    wall = time.perf_counter() - start
    return summarise(latencies, wall, errors, next_id)


def summarise(latencies: list[float], wall: float, errors: Counter, next_id: int) -> dict:
    latencies = sorted(latencies)
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000  # noqa: E731
    return {"n": len(latencies), "p50": q(0.50), "p95": q(0.95), "p99": q(0.99),
            "mean": statistics.mean(latencies) * 1000, "throughput": len(latencies) / wall,
            "errors": sum(errors.values()), "error_kinds": dict(errors), "next_id": next_id,
            "latencies": latencies, "wall": wall}


def pooled(runs: list[dict]) -> dict:
    """Several rounds of one bot at one level as one: their messages' latencies together, messages over wall time."""
    errors = Counter()
    for r in runs:
        errors.update(r["error_kinds"])
    return summarise([x for r in runs for x in r["latencies"]], sum(r["wall"] for r in runs), errors,
                     runs[-1]["next_id"])


async def warm(server: Server, scripts, rounds: int = 2) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for i in range(rounds):
            for sender, conversation in scripts(CUSTOMERS - 1 - i):
                for text in conversation:
                    await post(session, server, f"warm-{sender}", text)


async def long_conversation(server: Server, sender: str, turns: int) -> tuple[float, float]:
    """One sender, `turns` messages in one session: p50 of the first 20 turns and of the last 20, in ms."""
    import aiohttp

    lines = ["hello", "how do I get a refund", "thank you", "why is there no cancel button", "thanks"]
    times = []
    async with aiohttp.ClientSession() as session:
        for t in range(turns):
            _, _, elapsed = await post(session, server, sender, lines[t % len(lines)])
            times.append(elapsed * 1000)
    return statistics.median(times[:20]), statistics.median(times[-20:])


# --------------------------------------------------------------------------- loss with two replicas

def loss_run(lock_store: str, base_port: int, work: Path, senders: int, at_once: int) -> dict:
    env = {"ORDERDESK_NOW": iso(NOW), **tf_threads()}
    c = Cluster(work / f"loss-{lock_store}", model_path(), base_port=base_port, lock_store=lock_store, env=env)
    try:
        c.prepare_databases()
        data = Path(tempfile.mkdtemp()) / "loss.json"
        data.write_text(json.dumps(bench_data(senders)))
        c.orderdesk("import", str(data))
        c.start(timeout=900)

        def burst(i: int) -> tuple[str, list[str]]:
            return f"bench-{i:05d}", our_scripts(i)[1][1] + ["thank you"]  # 5 distinct messages

        started = time.perf_counter()
        sent = asyncio.run(play(c, list(range(senders)), at_once, burst))
        wall = time.perf_counter() - started
        events = stored_events(c, sent)
        total = sum(len(m) for m in sent.values())
        statuses = Counter(s for m in sent.values() for _, s in m)
        problems = conversation_problems(sent, events, require_all=True)
        missing = sum(1 for p in problems if "acknowledged" in p)
        twice = sum(1 for p in problems if "times" in p and "acknowledged" not in p)
        broken = sum(1 for p in problems if "turn" in p)
        return {"messages": total, "errors": total - statuses[200], "acked_missing": missing,
                "stored_twice": twice, "broken_conversations": broken, "seconds": wall}
    finally:
        c.stop()


# --------------------------------------------------------------------------- main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--messages", type=int, default=48, help="messages per sender slot per level (min 60)")
    parser.add_argument("--stores", choices=["production", "memory"], default="production")
    parser.add_argument("--plain", choices=["both", "memory", "production"], default="both",
                        help="the plain bot's stores: in memory as rasa init leaves it, Rasa's SQL tracker store "
                             "on PostgreSQL and RedisLockStore, or both (two plain bots; only with ours on "
                             "production stores)")
    parser.add_argument("--no-loss", action="store_true", help="skip the two-replica loss runs")
    parser.add_argument("--before", action="store_true",
                        help="ours as before the speed work: actions inline on the event loop, Rasa's own "
                             "schema check of every action answer")
    parser.add_argument("--without", default="",
                        help="comma-separated switches of issue 11 to turn off in ours: " + ",".join(SWITCHES)
                             + " or all (ours as before that work)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per level, the two bots taking turns; the table pools each bot's rounds")
    parser.add_argument("--loss-senders", type=int, default=60)
    parser.add_argument("--tf-threads", type=int, default=1,
                        help="TensorFlow intra/inter-op threads for every server (0: TensorFlow's default)")
    parser.add_argument("--long", type=int, default=200, help="turns of the one long conversation (0: skip)")
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("ORDERDESK_BENCH_PORT", "20200")))
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    TF_THREADS[0] = args.tf_threads
    work = Path(tempfile.mkdtemp(prefix="orderdesk-bench-"))
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; logs in {work}")

    wanted = [w for w in args.without.split(",") if w]
    off = dict(ISSUE_11_OFF) if "all" in wanted else {SWITCHES[w]: "0" for w in wanted}
    # The plain bot in memory, as `rasa init` leaves it, and (when ours keeps its conversations in PostgreSQL and
    # its lock in Redis) also on those stores: ours is compared with each, like with like first.
    plain_stores = {"both": ["production", "memory"], "production": ["production"], "memory": ["memory"]}[
        "memory" if args.stores == "memory" else args.plain]
    plains: list[Server] = []
    try:
        for i, stores in enumerate(plain_stores):
            plains.append(start_plain(args.base_port + 90 + i, work, stores))
        ours, cluster = start_ours(args.base_port, work, args.stores, args.before, off)
    except BaseException:
        for plain in plains:
            plain.stop()
        raise
    bots = [(plain, plain_scripts) for plain in plains] + [(ours, our_scripts)]
    results: dict[str, dict[int, dict]] = {server.name: {} for server, _ in bots}
    try:
        t0 = time.perf_counter()
        wait_up([server for server, _ in bots])
        print(f"servers up in {time.perf_counter() - t0:.0f} s (ours: stores {args.stores}"
              f"{', as before the speed work' if args.before else ''}"
              f"{', switched off: ' + ', '.join(sorted(off)) if off else ''}; plain: {', '.join(plain_stores)})",
              flush=True)
        for server, scripts in bots:
            asyncio.run(warm(server, scripts))
        next_id = {server.name: 0 for server, _ in bots}
        for level in levels:
            n = max(60, level * args.messages // 4)
            runs: dict[str, list[dict]] = {server.name: [] for server, _ in bots}
            for _ in range(args.rounds):  # the bots take turns, so that all see the machine's slow moments
                for server, scripts in bots:
                    name = server.name
                    r = asyncio.run(run_level(server, scripts, level, n, next_id[name]))
                    next_id[name] = r["next_id"]
                    runs[name].append(r)
                    print(f"  {name:8} x{level:<2} {r['n']:4} msgs  p50 {r['p50']:6.0f} ms  p95 {r['p95']:6.0f} ms  "
                          f"p99 {r['p99']:6.0f} ms  {r['throughput']:5.1f} msg/s  errors {r['errors']} "
                          f"{r['error_kinds'] or ''}", flush=True)
            for name in runs:
                results[name][level] = pooled(runs[name])
        if args.long:
            first, last = asyncio.run(long_conversation(ours, "bench-00299", args.long))
            print(f"  ours, one conversation of {args.long} turns: p50 {first:.0f} ms over the first 20 turns, "
                  f"{last:.0f} ms over the last 20", flush=True)
        memory = {server.name: server.memory_mb() for server, _ in bots}
    finally:
        for plain in plains:
            plain.stop()
        cluster.stop()

    print(f"\npooled over {args.rounds} round(s) per level, the bots taking turns:")
    for plain in plains:
        label = ("Rasa's SQL tracker store on PostgreSQL and its RedisLockStore" if plain.name == "plain-pg"
                 else "conversations and lock in memory, as rasa init leaves it")
        print(f"\nours (stores: {args.stores}) beside the plain bot with {label}:")
        print("| senders | plain p50/p95/p99 ms | ours p50/p95/p99 ms | p95 ratio | plain msg/s | ours msg/s | "
              "throughput ratio | errors (plain/ours) |")
        print("|---|---|---|---|---|---|---|---|")
        for level in levels:
            p, o = results[plain.name][level], results["ours"][level]
            print(f"| {level} | {p['p50']:.0f} / {p['p95']:.0f} / {p['p99']:.0f} | {o['p50']:.0f} / {o['p95']:.0f} / "
                  f"{o['p99']:.0f} | {o['p95'] / p['p95']:.2f}x | {p['throughput']:.1f} | {o['throughput']:.1f} | "
                  f"{o['throughput'] / p['throughput']:.2f}x | {p['errors']} / {o['errors']} |")
    load = os.getloadavg()
    print(f"\npeak resident memory (MB): {'; '.join(f'{n} {m}' for n, m in memory.items())}; "
          f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print("targets: sequential p95 <= 1.3x plain, throughput >= 0.8x plain, zero errors")

    if not args.no_loss:
        print(f"\ntwo replicas, bursts of 5 simultaneous messages per sender, {args.loss_senders} senders, 20 at once:")
        for store in ("stock", "atomic"):
            r = loss_run(store, args.base_port + 100 + (0 if store == "stock" else 50), work, args.loss_senders, 20)
            print(f"  {store:6} lock store: {r['messages']} messages, {r['errors']} answered with an error, "
                  f"{r['acked_missing']} acknowledged but missing, {r['stored_twice']} stored twice, "
                  f"{r['broken_conversations']} broken turns ({r['seconds']:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
