"""Fuzzing the Telegram and Slack webhooks on the running assistant (hypothesis), as tests/server/test_fuzz.py
does for the REST channel and the action server: generated bodies, with and without the platform's proof.
Every request gets a 2xx or a 4xx (never a 5xx), the server stays up, and no order, cancellation or dispute
changes (a forged or garbled update files nothing). Bounded: a fixed number of examples, no deadline."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from channelkit import RASA_PORT, SLACK_SECRET, TELEGRAM_DEMO_CHAT, TELEGRAM_SECRET
from orderdesk import db
from orderdesk.channels.slack import signature

EXAMPLES = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
BASE = f"http://127.0.0.1:{RASA_PORT}/webhooks"

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=12)
# Update-shaped bodies whose fields are anything: the connector must not trust their types.
updates = st.fixed_dictionaries({"update_id": json_scalars}, optional={
    "message": st.fixed_dictionaries({}, optional={
        "text": json_values, "chat": st.fixed_dictionaries({}, optional={"id": json_scalars, "type": json_scalars}),
        "from": json_values, "message_id": json_scalars}),
    "callback_query": st.fixed_dictionaries({}, optional={"id": json_scalars, "data": json_values,
                                                          "from": json_values, "message": json_values}),
})
raw_bodies = st.binary(max_size=2000) | st.builds(lambda v: json.dumps(v).encode(), json_values | updates)
slack_bodies = raw_bodies | st.builds(
    lambda kind, ev: json.dumps({"type": kind, "event_id": "EvFUZZ", "event": ev}).encode(),
    st.sampled_from(["event_callback", "url_verification", "block_actions", "x"]), json_values)


def send(url: str, body: bytes, headers: dict) -> int:
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=90) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def snapshot(url: str) -> dict:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as c:
            return {"orders": sorted(map(tuple, c.execute(select(db.orders.c.id, db.orders.c.status)))),
                    "cancellations": sorted(map(tuple, c.execute(select(db.cancellation_requests.c.order_id)))),
                    "disputes": sorted(map(tuple, c.execute(select(db.disputes.c.order_id))))}
    finally:
        engine.dispose()


def up() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{RASA_PORT}/", timeout=5) as r:
            return r.status == 200
    except OSError:
        return False


def test_telegram_webhook_answers_every_generated_body_without_a_5xx_and_files_nothing(channels_server):
    before = snapshot(channels_server["url"])
    statuses = []

    @EXAMPLES
    @given(body=raw_bodies, with_secret=st.booleans())
    def probe(body, with_secret):
        status = send(f"{BASE}/telegram/webhook", body,
                      {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET if with_secret else "wrong"})
        statuses.append(status)
        assert status < 500, body[:200]
        if not with_secret:
            assert status == 401

    probe()
    assert up()
    assert snapshot(channels_server["url"]) == before
    assert 401 in statuses and any(s < 300 or s in (400, 413, 415, 422) for s in statuses)


def test_a_forged_telegram_update_from_a_linked_chat_is_refused_without_the_secret(channels_server):
    # The demo buyer's chat id is public-ish (anyone can guess it): without the secret nothing reaches the bot.
    body = json.dumps({"update_id": 1, "message": {"message_id": 1, "chat": {"id": TELEGRAM_DEMO_CHAT,
                                                                            "type": "private"},
                                                   "from": {"id": TELEGRAM_DEMO_CHAT}, "date": 1,
                                                   "text": "yes, cancel order 8100000000000003"}}).encode()
    assert send(f"{BASE}/telegram/webhook", body, {}) == 401


def test_slack_webhook_answers_every_generated_body_without_a_5xx_and_files_nothing(channels_server):
    before = snapshot(channels_server["url"])

    @EXAMPLES
    @given(body=slack_bodies, signed=st.sampled_from(["good", "bad", "stale", "none"]))
    def probe(body, signed):
        ts = str(int(time.time() - (600 if signed == "stale" else 0)))
        headers = {"X-Slack-Request-Timestamp": ts}
        if signed != "none":
            headers["X-Slack-Signature"] = signature(SLACK_SECRET if signed != "bad" else "not-the-secret", ts, body)
        status = send(f"{BASE}/slack/webhook", body, headers)
        assert status < 500, body[:200]
        if signed != "good":
            assert status == 401, (signed, status)

    probe()
    assert up()
    assert snapshot(channels_server["url"]) == before
