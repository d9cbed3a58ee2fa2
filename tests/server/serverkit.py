"""The running assistant for the server tests: one Rasa server (`python -m orderdesk.servers.rasa run`) and one
action server (`python -m orderdesk.servers.actions`), on ports of their own, shared by every test of the
session, on a SQLite store with demo data; and the helpers that talk to them.

Needs the trained model: `make test` trains it (when its inputs changed) and passes its path in
ORDERDESK_TEST_MODEL. Without a model these tests are skipped with that reason, except in CI (CI=true),
where a missing model fails the run. Ports: ORDERDESK_TEST_RASA_PORT / ORDERDESK_TEST_ACTIONS_PORT.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import create_engine, func, select

from support import http_ok, port_free, trained_model

ROOT = Path(__file__).resolve().parents[2]
RASA_PORT = int(os.environ.get("ORDERDESK_TEST_RASA_PORT", "15005"))
ACTIONS_PORT = int(os.environ.get("ORDERDESK_TEST_ACTIONS_PORT", "15055"))
TOKEN = "test-integration-token"  # the shop backend's bearer token for this test server
ACTIONS_SECRET = "test-actions-secret"  # what Rasa sends the action server


def start_servers(tmp_path_factory):
    model = trained_model()
    for port in (RASA_PORT, ACTIONS_PORT):
        if not port_free(port):
            pytest.fail(f"port {port} is taken; set ORDERDESK_TEST_RASA_PORT / ORDERDESK_TEST_ACTIONS_PORT")
    tmp = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{tmp}/orders.db"
    env = {**os.environ, "ORDERDESK_DATABASE_URL": url, "ORDERDESK_REST_TOKEN": TOKEN,
           "ORDERDESK_ACTIONS_SECRET": ACTIONS_SECRET, "ORDERDESK_ACTION_TIMEOUT": "5",
           "LOG_LEVEL": "DEBUG"}  # the log tests read what the most talkative level writes
    venv_bin = Path(sys.executable).parent
    subprocess.run([str(venv_bin / "orderdesk"), "demo", "--reset"], env=env, check=True, capture_output=True)
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{ACTIONS_PORT}/webhook"\n  enable_selective_domain: true\n'
                         '  headers:\n    Authorization: Bearer ${ORDERDESK_ACTIONS_SECRET}\n')
    logs = [open(tmp / "actions.log", "w"), open(tmp / "rasa.log", "w")]
    procs = [
        subprocess.Popen([sys.executable, "-m", "orderdesk.servers.actions", "--port", str(ACTIONS_PORT)],
                         cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "orderdesk.servers.rasa", "run", "--model", str(model),
                          "--port", str(RASA_PORT),
                          "--credentials", "credentials.yml", "--endpoints", str(endpoints), "--debug"],
                         cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT),
    ]
    try:
        deadline = time.monotonic() + 240
        while not (http_ok(f"http://127.0.0.1:{RASA_PORT}/") and http_ok(f"http://127.0.0.1:{ACTIONS_PORT}/health")):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail("servers did not start:\n" + (tmp / "rasa.log").read_text()[-3000:]
                            + (tmp / "actions.log").read_text()[-3000:])
            time.sleep(1)
        yield {"url": url, "tmp": tmp, "procs": procs}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs:
            f.close()


def post(body: bytes, token: Optional[str] = TOKEN, content_type: str = "application/json") -> tuple[int, bytes]:
    """POST to the REST webhook; (status, body) whatever the status."""
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def say(sender: str, message: str) -> list[dict]:
    status, body = post(json.dumps({"sender": sender, "message": message}).encode())
    assert status == 200, body[:300]
    return json.loads(body)


def fresh(sender: str) -> str:
    """Start the conversation over (Rasa's built-in /restart)."""
    say(sender, "/restart")
    return sender


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def count(url: str, table) -> int:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as c:
            return c.execute(select(func.count()).select_from(table)).scalar_one()
    finally:
        engine.dispose()


def post_actions(body: bytes, secret: Optional[str] = ACTIONS_SECRET, path: str = "/webhook",
                 content_type: str = "application/json", method: str = "POST") -> tuple[int, bytes]:
    """A request to the action server; (status, body) whatever the status."""
    headers = {"Content-Type": content_type}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    req = urllib.request.Request(f"http://127.0.0.1:{ACTIONS_PORT}{path}", data=body if method == "POST" else None,
                                 headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
