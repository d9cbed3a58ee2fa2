"""The running assistant, through Rasa's REST channel: one Rasa server and one action
server (ports of their own) shared by every test here, on a SQLite store with demo data.

Needs the trained model: `make test` trains it (when its inputs changed) and passes
its path in ORDERDESK_TEST_MODEL. Without a model these tests are skipped with that
reason, except in CI (CI=true), where a missing model fails the run.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

import pytest
from sqlalchemy import create_engine, func, select

from orderdesk import db

ROOT = Path(__file__).resolve().parents[2]
RASA_PORT = int(os.environ.get("ORDERDESK_TEST_RASA_PORT", "15005"))
ACTIONS_PORT = int(os.environ.get("ORDERDESK_TEST_ACTIONS_PORT", "15055"))
TOKEN = "test-integration-token"  # the shop backend's bearer token for this test server


def _model() -> Path:
    raw = os.environ.get("ORDERDESK_TEST_MODEL")
    if raw and Path(raw).exists():
        return Path(raw)
    from orderdesk.nlp.train import model_path

    if model_path().exists():
        return model_path()
    why = "no trained model for the current data (run `make test`, which trains it)"
    if os.environ.get("CI") == "true":
        pytest.fail(why)
    pytest.skip(why)


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    model = _model()
    for port in (RASA_PORT, ACTIONS_PORT):
        if not _free(port):
            pytest.fail(f"port {port} is taken; set ORDERDESK_TEST_RASA_PORT / ORDERDESK_TEST_ACTIONS_PORT")
    tmp = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{tmp}/orders.db"
    env = {**os.environ, "ORDERDESK_DATABASE_URL": url, "ORDERDESK_REST_TOKEN": TOKEN}
    venv_bin = Path(sys.executable).parent
    subprocess.run([str(venv_bin / "orderdesk"), "demo", "--reset"], env=env, check=True, capture_output=True)
    endpoints = tmp / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{ACTIONS_PORT}/webhook"\n')
    logs = [open(tmp / "actions.log", "w"), open(tmp / "rasa.log", "w")]
    procs = [
        subprocess.Popen([str(venv_bin / "rasa"), "run", "actions", "--actions", "actions", "--port",
                          str(ACTIONS_PORT)], cwd=ROOT, env=env, stdout=logs[0], stderr=subprocess.STDOUT),
        subprocess.Popen([str(venv_bin / "rasa"), "run", "--model", str(model), "--port", str(RASA_PORT),
                          "--credentials", "credentials.yml", "--endpoints", str(endpoints)],
                         cwd=ROOT, env=env, stdout=logs[1], stderr=subprocess.STDOUT),
    ]
    try:
        deadline = time.monotonic() + 240
        while not (_get(f"http://127.0.0.1:{RASA_PORT}/") and _get(f"http://127.0.0.1:{ACTIONS_PORT}/health")):
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                pytest.fail("servers did not start:\n" + (tmp / "rasa.log").read_text()[-3000:]
                            + (tmp / "actions.log").read_text()[-3000:])
            time.sleep(1)
        yield {"url": url, "tmp": tmp}
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


def test_linked_buyer_is_offered_their_recent_orders_as_buttons(server):
    replies = say(fresh("demo"), "why is there no cancel button")
    buttons = [b for r in replies for b in r.get("buttons", [])]
    assert "Which order" in texts(replies)
    assert 1 <= len(buttons) <= 5
    assert all(len(b["payload"].encode()) <= 64 for b in buttons)


def test_no_cancel_button_answer_names_the_payment_check_and_when_it_ends(server):
    say(fresh("demo"), "why is there no cancel button")
    replies = say("demo", '/provide_order_number{"order_number":"8100000000000002"}')
    text = texts(replies)
    assert "payment is still being checked" in text
    assert "UTC" in text  # the exact time the button appears


def test_seller_rejected_cancellation_points_to_tracking_and_dispute(server):
    say(fresh("demo"), "the seller rejected my cancellation")
    text = texts(say("demo", '/provide_order_number{"order_number":"8100000000000006"}'))
    assert "RB123456789CN" in text
    assert "dispute" in text


def test_stranger_must_give_the_email_before_hearing_about_an_order(server):
    text = texts(say("stranger-1", "where is my refund for order 8100000000000007"))
    assert "email" in text
    assert "42.00" not in text and "Alipay" not in text
    text = texts(say("stranger-1", "my email is demo@example.com"))
    assert "Alipay" in text


def test_cancellation_is_filed_once_even_when_confirmed_twice(server):
    sender = fresh("demo")
    say(sender, "I want to cancel my order 8100000000000003")
    say(sender, "/affirm")
    say(sender, '/inform{"cancel_reason":"wrong_product"}')
    before = count(server["url"], db.cancellation_requests)
    text = texts(say(sender, "/affirm"))
    assert "CXL-8100000000000003" in text
    say(sender, "/affirm")  # the button clicked again
    assert count(server["url"], db.cancellation_requests) == before + 1


def test_a_ten_thousand_character_message_gets_an_answer(server):
    replies = say("long-message", "my order " + "really " * 1430)
    assert isinstance(replies, list)
    assert texts(replies).strip()


def test_an_order_number_in_the_middle_of_a_ten_thousand_character_message_is_not_lost(server):
    # The NLU classifies on the first and last 64 tokens; the regex extractor still reads the whole text.
    filler = "I ordered a desk lamp last week and I have been thinking about it for days. " * 70
    message = filler + "The order is 8100000000000003. " + filler + "I want to cancel this order."
    assert len(message) > 10_000
    text = texts(say(fresh("demo"), message))
    assert "8100000000000003" in text and "LED desk lamp" in text


# --------------------------------------------------------------------------- who may talk, and how much

def test_a_request_without_the_bearer_token_is_refused_and_reaches_no_conversation(server):
    status, body = post(json.dumps({"sender": "demo", "message": "why is there no cancel button"}).encode(),
                        token=None)
    assert status == 401
    assert b"Which order" not in body
    status, _ = post(json.dumps({"sender": "demo", "message": "hi"}).encode(), token="wrong-token")
    assert status == 401


def test_input_channel_in_the_body_is_ignored_so_a_caller_cannot_borrow_a_link(server):
    # The demo buyer is linked on "rest" as sender "demo" only; claiming another channel changes nothing,
    # and a stranger claiming the cmdline channel stays a stranger.
    body = {"sender": "stranger-channel", "message": "why is there no cancel button", "input_channel": "cmdline",
            "metadata": {"orderdesk": {"channel": "rest", "customer_id": "demo"}}}
    say("stranger-channel", "/restart")
    status, raw = post(json.dumps(body).encode())
    assert status == 200
    text = texts(json.loads(raw))
    assert "Which order" not in text and "8100000000000002" not in text


def test_bad_bodies_get_a_4xx_without_a_traceback(server):
    for raw in (b"[1, 2]", b"not json", b'{"sender": "x"}', b'{"message": "hi"}', b'{"sender": "", "message": "hi"}',
                b'{"sender": 5, "message": "hi"}', b'{"sender": "x", "message": 5}'):
        status, body = post(raw)
        assert 400 <= status < 500, (raw, status)
        assert b"Traceback" not in body


def test_an_oversize_message_gets_a_clear_answer_and_is_not_processed(server):
    status, body = post(json.dumps({"sender": "huge", "message": "x" * 1_000_000}).encode())
    assert status == 413
    assert "too long" in texts(json.loads(body))
