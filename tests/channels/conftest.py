"""Fixtures: the running assistant with every channel on, and the fake platform APIs (see channelkit)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from channelkit import (ACTIONS_PORT, FAKE_API_PORT, PAGE_ORIGIN, RASA_PORT, ROOT, SLACK_DEMO_USER, SLACK_SECRET,
                        TELEGRAM_DEMO_CHAT, TELEGRAM_SECRET, TELEGRAM_TOKEN, WEB_PORT, WIDGET_SECRET, FakeApis)
from support import http_ok, port_free, trained_model


@pytest.fixture(scope="session")
def fake_apis():
    if not port_free(FAKE_API_PORT):
        pytest.fail(f"port {FAKE_API_PORT} is taken; set ORDERDESK_TEST_FAKE_API_PORT")
    fake = FakeApis()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture(scope="session")
def channels_server(tmp_path_factory, fake_apis):
    model = trained_model()
    for port in (RASA_PORT, ACTIONS_PORT, WEB_PORT):
        if not port_free(port):
            pytest.fail(f"port {port} is taken; set the ORDERDESK_TEST_CHANNELS_* / ORDERDESK_TEST_WEB_PORT ports")
    tmp = tmp_path_factory.mktemp("channels")
    url = f"sqlite:///{tmp}/orders.db"
    env = {**os.environ, "ORDERDESK_DATABASE_URL": url, "ORDERDESK_WIDGET_SECRET": WIDGET_SECRET,
           "ORDERDESK_ALLOWED_ORIGINS": PAGE_ORIGIN, "ORDERDESK_RASA_PORT": str(RASA_PORT),
           "ORDERDESK_TELEGRAM_TOKEN": TELEGRAM_TOKEN, "ORDERDESK_TELEGRAM_SECRET": TELEGRAM_SECRET,
           "ORDERDESK_TELEGRAM_WEBHOOK_URL": "https://bot.example.test/webhooks/telegram/webhook",
           "ORDERDESK_TELEGRAM_API_URL": f"http://127.0.0.1:{FAKE_API_PORT}",
           "ORDERDESK_SLACK_TOKEN": "xoxb-test", "ORDERDESK_SLACK_SIGNING_SECRET": SLACK_SECRET,
           "ORDERDESK_SLACK_API_URL": f"http://127.0.0.1:{FAKE_API_PORT}/api/",
           # The action server as production runs it: behind the shared secret that endpoints.yml sends.
           "ORDERDESK_ACTIONS_SECRET": "test-channels-actions-secret",
           "ORDERDESK_ACTIONS_URL": f"http://127.0.0.1:{ACTIONS_PORT}/webhook"}
    env.pop("ORDERDESK_REST_TOKEN", None)
    venv_bin = Path(sys.executable).parent
    subprocess.run([str(venv_bin / "orderdesk"), "demo", "--reset"], env=env, check=True, capture_output=True)
    for channel, chat in (("telegram", str(TELEGRAM_DEMO_CHAT)), ("slack", SLACK_DEMO_USER)):
        subprocess.run([str(venv_bin / "orderdesk"), "link", "demo", channel, chat], env=env, check=True,
                       capture_output=True)
    names = ("actions", "rasa", "web")
    logs = {n: open(tmp / f"{n}.log", "w") for n in names}
    procs = [
        subprocess.Popen([sys.executable, "-m", "orderdesk.servers.actions", "--port", str(ACTIONS_PORT)],
                         cwd=ROOT, env=env, stdout=logs["actions"], stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "orderdesk.servers.rasa", "run", "--model", str(model),
                          "--port", str(RASA_PORT), "--interface", "127.0.0.1", "--credentials", "credentials.yml",
                          "--endpoints", "endpoints.yml", "--cors", PAGE_ORIGIN],
                         cwd=ROOT, env=env, stdout=logs["rasa"], stderr=subprocess.STDOUT),
        subprocess.Popen([sys.executable, "-m", "orderdesk.web", "--port", str(WEB_PORT), "--bind", "127.0.0.1"],
                         cwd=ROOT, env=env, stdout=logs["web"], stderr=subprocess.STDOUT),
    ]

    def tails() -> str:
        return "\n".join(f"--- {n}.log\n" + (tmp / f"{n}.log").read_text()[-3000:] for n in names)

    try:
        deadline = time.monotonic() + 300
        while not (http_ok(f"http://127.0.0.1:{RASA_PORT}/") and http_ok(f"http://127.0.0.1:{ACTIONS_PORT}/health")
                   and http_ok(f"http://127.0.0.1:{WEB_PORT}/config.json")):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail("servers did not start:\n" + tails())
            time.sleep(1)
        yield {"url": url, "tmp": tmp, "tails": tails, "rasa": f"http://127.0.0.1:{RASA_PORT}",
               "page": f"{PAGE_ORIGIN}/"}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in logs.values():
            f.close()
