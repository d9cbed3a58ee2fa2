"""A cluster on this machine, started the way production starts it, for `make cluster-test` and `make bench`.

`Cluster` runs N Rasa replicas (`python -m orderdesk.servers.rasa run` with `deploy/endpoints.yml`: SQL tracker
store on PostgreSQL, the lock store on Redis, the action servers through the balancer) and M action servers
(`python -m orderdesk.servers.actions`, the shared secret) behind nginx (Debian's package, round robin, nothing
sticky). Each run gets PostgreSQL databases of its own (orders and conversations), dropped at the end, and ports
from `base_port` up: the balancer's REST port is `base_port`, its action port `base_port + 1`, the Rasa replicas
`base_port + 10 + i`, the action servers `base_port + 20 + i`.

`lock_store="stock"` swaps in Rasa's own `RedisLockStore` (the benchmark measures what it loses).
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get("ORDERDESK_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("ORDERDESK_CLUSTER_REDIS_URL") or "redis://127.0.0.1:6379/13"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    return found


def check_ports_free(ports: list[int]) -> None:
    import socket

    for port in ports:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                raise RuntimeError(f"port {port} is taken (a server left from an earlier run?); stop it first")


def nginx_conf(workdir: Path, rest_port: int, actions_port: int, rasa_ports: list[int], action_ports: list[int]) -> str:
    """The balancer: the same shape as deploy/nginx/nginx.conf, on loopback ports."""
    rasa = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in rasa_ports)
    actions = "\n".join(f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in action_ports)
    temp = workdir / "nginx-temp"
    # As root, nginx's workers would run as nobody, who cannot enter a private temp directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  log_format upstream '$upstream_addr $status';
  access_log {workdir}/nginx-access.log upstream;
  client_max_body_size 8m;
  client_body_buffer_size 8m;
  client_body_temp_path {temp}/body;
  proxy_temp_path {temp}/proxy;
  fastcgi_temp_path {temp}/fastcgi;
  uwsgi_temp_path {temp}/uwsgi;
  scgi_temp_path {temp}/scgi;
  upstream rasa {{
{rasa}
    keepalive 64;
  }}
  upstream actions {{
{actions}
    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{rest_port};
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 120s;
      proxy_next_upstream off;
    }}
  }}
  server {{
    listen 127.0.0.1:{actions_port};
    access_log off;
    location / {{
      proxy_pass http://actions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 30s;
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }}
  }}
}}
"""


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def peak_memory_mb(procs: dict[str, subprocess.Popen]) -> dict[str, float]:
    """Each live process's peak resident memory (VmHWM), in MB."""
    out = {}
    for name, p in procs.items():
        try:
            status = Path(f"/proc/{p.pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                out[name] = round(int(line.split()[1]) / 1024)
    return out


def _admin_sql(statement: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    try:
        with engine.connect() as c:
            c.execute(text(statement))
    finally:
        engine.dispose()


def _db_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@dataclass
class Cluster:
    workdir: Path
    model: Path
    base_port: int = 20000
    rasa_replicas: int = 2
    action_servers: int = 2
    lock_store: str = "atomic"  # or "stock": Rasa's RedisLockStore
    env: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    actions_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: list = field(default_factory=list)

    def __post_init__(self) -> None:
        run = secrets.token_hex(4)
        self.orders_db, self.tracker_db = f"orderdesk_cluster_{run}", f"rasa_cluster_{run}"
        self.rest_port, self.actions_lb_port = self.base_port, self.base_port + 1
        self.rasa_ports = [self.base_port + 10 + i for i in range(self.rasa_replicas)]
        self.action_ports = [self.base_port + 20 + i for i in range(self.action_servers)]
        self.workdir.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ addresses

    @property
    def orders_url(self) -> str:
        return _db_url(self.orders_db)

    @property
    def tracker_url(self) -> str:
        return _db_url(self.tracker_db)

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}/webhooks/rest/webhook"

    def server_env(self) -> dict[str, str]:
        from sqlalchemy.engine import make_url

        pg, redis_url = make_url(PG_ADMIN_URL), make_url(REDIS_URL)
        return {
            **os.environ, "PYTHONPATH": str(ROOT),
            "ORDERDESK_DATABASE_URL": self.orders_url,
            "ORDERDESK_REST_TOKEN": self.token, "ORDERDESK_ACTIONS_SECRET": self.actions_secret,
            "ORDERDESK_ACTIONS_URL": f"http://127.0.0.1:{self.actions_lb_port}/webhook",
            "RASA_DB_HOST": pg.host or "127.0.0.1", "RASA_DB_NAME": self.tracker_db,
            "RASA_DB_USER": pg.username or "postgres", "RASA_DB_PASSWORD": pg.password or "",
            "REDIS_HOST": redis_url.host or "127.0.0.1", "REDIS_PORT": str(redis_url.port or 6379),
            "REDIS_DB": (redis_url.database or "0"), "REDIS_PASSWORD": redis_url.password or "",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }

    # ------------------------------------------------------------------ life cycle

    def prepare_databases(self) -> None:
        _admin_sql(f'CREATE DATABASE "{self.orders_db}"')
        _admin_sql(f'CREATE DATABASE "{self.tracker_db}"')
        self.orderdesk("migrate")

    def orderdesk(self, *args: str) -> str:
        """Run the operators' command line against this cluster's order database."""
        done = subprocess.run([sys.executable, "-m", "orderdesk.cli", *args], env=self.server_env(), cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"orderdesk {' '.join(args)} failed: {done.stderr[-2000:]}")
        return done.stdout

    def endpoints(self) -> Path:
        """deploy/endpoints.yml itself; `stock`: with Rasa's RedisLockStore; `memory`: no tracker or lock store
        (Rasa's in-memory ones, one replica only)."""
        if self.lock_store == "atomic":
            return ROOT / "deploy" / "endpoints.yml"
        text = (ROOT / "deploy" / "endpoints.yml").read_text()
        end = text.index("action_endpoint:")
        if self.lock_store == "memory":
            path = self.workdir / "endpoints-memory.yml"
            path.write_text(text[end:])
            return path
        start = text.index("lock_store:")
        stock = ("lock_store:\n  type: redis\n  url: ${REDIS_HOST}\n  port: ${REDIS_PORT}\n  db: ${REDIS_DB}\n"
                 f"  key_prefix: stock{secrets.token_hex(3)}\n\n")
        path = self.workdir / "endpoints-stock.yml"
        path.write_text(text[:start] + stock + text[end:])
        return path

    def _spawn(self, name: str, argv: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "w")
        self.logs.append(log)
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, env=self.server_env(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)

    def start_action_server(self, i: int) -> None:
        self._spawn(f"actions-{i}", [sys.executable, "-m", "orderdesk.servers.actions",
                                     "--port", str(self.action_ports[i])])

    def start_rasa(self, i: int) -> None:
        self._spawn(f"rasa-{i}", [sys.executable, "-m", "orderdesk.servers.rasa", "run", "--model", str(self.model),
                                  "--port", str(self.rasa_ports[i]), "--credentials", "credentials.yml",
                                  "--endpoints", str(self.endpoints())])

    def start_balancer(self) -> None:
        temp = self.workdir / "nginx-temp"
        temp.mkdir(exist_ok=True)
        os.chmod(temp, 0o777)
        conf = self.workdir / "nginx.conf"
        conf.write_text(nginx_conf(self.workdir, self.rest_port, self.actions_lb_port, self.rasa_ports,
                                   self.action_ports))
        self._spawn("nginx", [nginx_binary(), "-p", str(self.workdir), "-c", str(conf), "-g", "daemon off;"])

    def check_ports_free(self) -> None:
        """Refuse to start beside a server left on these ports (an earlier run that crashed): its answers would
        be measured as this run's."""
        check_ports_free([self.rest_port, self.actions_lb_port, *self.rasa_ports, *self.action_ports])

    def start(self, timeout: float = 400) -> None:
        self.check_ports_free()
        for i in range(self.action_servers):
            self.start_action_server(i)
        for i in range(self.rasa_replicas):
            self.start_rasa(i)
        self.start_balancer()
        self.wait_ready(timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        urls = [f"http://127.0.0.1:{p}/" for p in self.rasa_ports] + \
               [f"http://127.0.0.1:{p}/health" for p in self.action_ports]
        while not all(_get(u) for u in urls):
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise RuntimeError(f"cluster did not start ({dead or 'timeout'}):\n" + self.tail_logs())
            time.sleep(1)

    def alive(self, name: str) -> bool:
        p = self.procs.get(name)
        return p is not None and p.poll() is None

    def kill(self, name: str) -> None:
        """SIGKILL, as the kernel's OOM killer or a lost machine would."""
        p = self.procs[name]
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(30)

    def tail_logs(self, chars: int = 2000) -> str:
        out = []
        for f in sorted(self.workdir.glob("*.log")):
            out.append(f"--- {f.name}\n{f.read_text(errors='replace')[-chars:]}")
        return "\n".join(out)

    def peak_memory_mb(self) -> dict[str, float]:
        return peak_memory_mb(self.procs)

    def stop(self, drop: bool = True) -> None:
        for name, p in self.procs.items():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        for f in self.logs:
            f.close()
        if drop:
            for name in (self.orders_db, self.tracker_db):
                try:
                    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                except Exception as e:  # noqa: BLE001 - reported, not fatal
                    print(f"could not drop {name}: {e}", file=sys.stderr)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --------------------------------------------------------------------------- the REST client

async def send(session, cluster: Cluster, sender: str, message: str, timeout: float = 180) -> tuple[int, list]:
    """One message through the balancer: (HTTP status, the bot's messages); status 0 when the connection broke."""
    import aiohttp

    try:
        async with session.post(cluster.rest_url, json={"sender": sender, "message": message},
                                headers={"Authorization": f"Bearer {cluster.token}"},
                                timeout=aiohttp.ClientTimeout(total=timeout)) as r:
            body = await r.read()
            try:
                return r.status, json.loads(body) if r.status == 200 else []
            except ValueError:
                return r.status, []
    except (aiohttp.ClientError, OSError, TimeoutError):
        return 0, []


async def play(c: Cluster, senders: list[int], at_once: int, burst: Callable[[int], tuple[str, list[str]]],
               on_progress: Optional[Callable[[int], None]] = None) -> dict[str, list[tuple[str, int]]]:
    """For each of `senders`, `burst(i)` = (sender, messages): the messages sent at once, `at_once` senders at a
    time. Returns each sender's (message, HTTP status)."""
    import aiohttp

    results: dict[str, list[tuple[str, int]]] = {}
    gate = asyncio.Semaphore(at_once)
    started = 0

    async def one(session, i: int) -> None:
        nonlocal started
        async with gate:
            started += 1
            if on_progress:
                on_progress(started)
            sender, messages = burst(i)
            statuses = await asyncio.gather(*(send(session, c, sender, m) for m in messages))
            results[sender] = [(m, s) for m, (s, _) in zip(messages, statuses)]

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(one(session, i) for i in senders))
    return results


async def converse(c: Cluster, senders: list[int], at_once: int, script: Callable[[int], tuple[str, list[str]]]
                   ) -> dict[str, list[tuple[str, int, list]]]:
    """For each of `senders`, `script(i)` = (sender, messages) sent one after another, `at_once` senders at a time.
    Returns each sender's (message, HTTP status, the bot's messages)."""
    import aiohttp

    results: dict[str, list[tuple[str, int, list]]] = {}
    gate = asyncio.Semaphore(at_once)

    async def one(session, i: int) -> None:
        async with gate:
            sender, messages = script(i)
            results[sender] = []
            for m in messages:
                status, replies = await send(session, c, sender, m)
                results[sender].append((m, status, replies))

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(one(session, i) for i in senders))
    return results


def stored_events(c: Cluster, senders) -> dict[str, list[tuple]]:
    """Each sender's events in the tracker store, in the order they were stored: (type, timestamp, action, text)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(c.tracker_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT sender_id, id, type_name, timestamp, action_name, data FROM events "
                                     "WHERE sender_id = ANY(:s) ORDER BY id"), {"s": list(senders)}).all()
    finally:
        engine.dispose()
    out: dict[str, list[tuple]] = defaultdict(list)
    for sender, _id, kind, ts, action, raw in rows:
        out[sender].append((kind, ts, action, json.loads(raw).get("text") if kind == "user" else None))
    return out


def conversation_problems(sent: dict[str, list[tuple[str, int]]], events: dict[str, list[tuple]],
                          require_all: bool) -> list[str]:
    """What is wrong with the stored conversations: a message acknowledged but missing or stored twice, a message
    stored that was never sent, a user turn without the bot's turn, events out of time order; with
    `require_all`, any message not answered with 200 too."""
    problems = []
    for sender, messages in sent.items():
        evs = events.get(sender, [])
        stored = Counter(t for kind, _, _, t in evs if kind == "user")
        for text_, status in messages:
            if status == 200 and stored[text_] != 1:
                problems.append(f"{sender}: acknowledged {text_!r} stored {stored[text_]} times")
            elif stored[text_] > 1:
                problems.append(f"{sender}: {text_!r} stored {stored[text_]} times")
            if require_all and status != 200:
                problems.append(f"{sender}: {text_!r} answered {status}")
        unknown = set(stored) - {m for m, _ in messages}
        if unknown:
            problems.append(f"{sender}: stored messages never sent: {sorted(unknown)}")
        stamps = [ts for _, ts, _, _ in evs]
        if stamps != sorted(stamps):
            problems.append(f"{sender}: events out of time order")
        # Whole turns: after each user event at least one bot action, then action_listen before the next one.
        turn_open, acted = False, False
        for kind, _, action, _ in evs:
            if kind == "user":
                if turn_open:
                    problems.append(f"{sender}: a user turn followed by another before the bot's turn ended")
                turn_open, acted = True, False
            elif kind == "action" and turn_open:
                if action == "action_listen":
                    if not acted:
                        problems.append(f"{sender}: a user turn with no bot action")
                    turn_open = False
                else:
                    acted = True
        if turn_open:
            problems.append(f"{sender}: the last user turn has no complete bot turn")
    return problems


def model_path(explicit: Optional[str] = None) -> Path:
    raw = explicit or os.environ.get("ORDERDESK_TEST_MODEL")
    if raw and Path(raw).exists():
        return Path(raw)
    from orderdesk.nlp.train import model_path as trained

    return trained()
