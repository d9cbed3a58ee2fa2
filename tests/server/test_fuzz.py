"""Fuzzing the running servers (hypothesis): generated messages, button payloads and raw bodies on the REST
channel, generated calls on the action server, with and without their secrets. Every request gets a sane
reply or a 4xx, the servers stay up, and the database holds nothing the fuzzing did not really ask for
(no cancellation, dispute or order change: a stranger can file nothing). Bounded: a fixed number of
examples per test, no shrinking deadline."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, select

from orderdesk import db
from serverkit import post, post_actions, say, texts

EXAMPLES = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ACTIONS = ["action_answer_question", "action_submit_cancellation", "action_submit_dispute", "action_escalate_dispute",
           "action_decline_offer", "action_stop_form", "action_human_handoff", "validate_cancel_form",
           "validate_dispute_form", "action_that_does_not_exist"]
INTENTS = ["affirm", "deny", "provide_order_number", "provide_email", "cancel_order", "inform", "restart",
           "ask_refund", "open_dispute"]
ORDER_LIKE = st.sampled_from(["8100000000000003", "8100000000000005", "8200000000000001", "81000", "８１００"])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda kids: st.lists(kids, max_size=4)
                           | st.dictionaries(st.text(max_size=10), kids, max_size=4), max_leaves=12)
payloads = st.builds(lambda intent, key, value: "/" + intent + json.dumps({key: value}),
                     st.sampled_from(INTENTS), st.sampled_from(["order_number", "email", "cancel_reason", "x{"]),
                     ORDER_LIKE | st.text(max_size=30))
messages = (st.text(max_size=300) | payloads | st.builds(lambda a, b: f"{a} {b}", st.text(max_size=50), ORDER_LIKE)
            | st.builds(lambda n, c: c * n, st.integers(1, 12_500), st.sampled_from(["a", "@", "a@", "{", "%s", "١"])))


def snapshot(url: str) -> dict:
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as c:
            return {
                "orders": sorted(map(tuple, c.execute(select(db.orders.c.id, db.orders.c.status)))),
                "cancellations": sorted(map(tuple, c.execute(select(db.cancellation_requests.c.order_id,
                                                                    db.cancellation_requests.c.state)))),
                "disputes": sorted(map(tuple, c.execute(select(db.disputes.c.order_id, db.disputes.c.state)))),
            }
    finally:
        engine.dispose()


def sane_reply(status: int, body: bytes) -> None:
    assert status == 200 or 400 <= status < 500, (status, body[:300])
    assert b"Traceback" not in body
    data = json.loads(body)
    if status == 200:
        assert isinstance(data, list) and all(isinstance(m, dict) and "recipient_id" in m for m in data), data


def test_fuzzed_traffic_gets_sane_replies_and_changes_no_order(server):
    before = snapshot(server["url"])

    @EXAMPLES
    @given(sender=st.text(min_size=1, max_size=40).map(lambda s: "fuzz-" + s), message=messages,
           metadata=json_values)
    def rest_messages(sender, message, metadata):
        body = json.dumps({"sender": sender, "message": message, "metadata": metadata,
                           "input_channel": "cmdline"}).encode()
        sane_reply(*post(body))

    @EXAMPLES
    @given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()),
           token=st.sampled_from([None, "wrong", "test-integration-token"]))
    def rest_bodies(raw, token):
        status, body = post(raw, token=token)
        assert status == 200 or 400 <= status < 500, (status, body[:300])
        assert b"Traceback" not in body

    @EXAMPLES
    @given(action=st.sampled_from(ACTIONS), slots=st.dictionaries(
               st.sampled_from(["order_number", "customer_id", "cancel_confirm", "dispute_confirm", "cancel_reason",
                                "refund_type", "refund_amount", "pending_order", "topic", "offer"]),
               ORDER_LIKE | json_scalars, max_size=6),
           text=st.text(max_size=100), sender=st.text(max_size=30), secret=st.sampled_from([None, "x", "ok"]))
    def action_calls(action, slots, text, sender, secret):
        tracker = {"sender_id": sender, "slots": slots, "latest_message": {"text": text, "intent": {},
                   "entities": [], "metadata": {"orderdesk": {"channel": "rest"}}}, "events": [], "paused": False,
                   "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
        raw = json.dumps({"next_action": action, "tracker": tracker, "domain": {}}).encode()
        status, body = post_actions(raw, secret="test-actions-secret" if secret == "ok" else secret)
        if secret != "ok":
            assert status == 401 and (not text or text.encode() not in body)
        else:
            assert status == 200 or 400 <= status < 500, (action, slots, status, body[:300])

    @EXAMPLES
    @given(raw=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
    def action_bodies(raw):
        status, body = post_actions(raw)
        assert 400 <= status < 500 or status == 200, (raw, status, body[:300])
        assert b"Traceback" not in body and b"request_body" not in body

    for run in (rest_messages, rest_bodies, action_calls, action_bodies):
        run()

    # The servers are up and answer a real conversation; nothing of the orders changed.
    assert "Which order" in texts(say("demo", "/restart") + say("demo", "why is there no cancel button"))
    assert post_actions(b"", secret=None, path="/health", method="GET")[0] == 200
    assert snapshot(server["url"]) == before
