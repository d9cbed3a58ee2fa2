"""The running servers as an attacker meets them: the action server behind its secret, bound to loopback,
never echoing a request; guessing emails locked out; a 1 MB message answered at once while another
conversation goes on; logs without emails or long messages."""
from __future__ import annotations

import json
import re
import threading
import time

from orderdesk import db
from serverkit import ACTIONS_PORT, count, fresh, post, post_actions, say, texts

VICTIM_ORDER = "8100000000000003"  # the demo buyer's, awaiting shipment: cancellable
MARKER = "zq-echo-marker-7731"


def forged_call(order: str = VICTIM_ORDER) -> bytes:
    """The issue's exploit: a hand-made tracker that confirms a cancellation of someone else's order."""
    slots = {"order_number": order, "customer_id": "demo", "cancel_confirm": True, "cancel_reason": "no_contact",
             "note": MARKER}
    tracker = {"sender_id": "attacker", "slots": slots, "latest_message": {"text": MARKER, "metadata": {
        "orderdesk": {"channel": "rest"}}}, "events": [], "paused": False,
        "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen"}
    return json.dumps({"next_action": "action_submit_cancellation", "sender_id": "attacker", "tracker": tracker,
                       "domain": {}, "version": "3.6.21"}).encode()


def test_the_action_server_runs_nothing_without_the_secret(server):
    before = count(server["url"], db.cancellation_requests)
    for secret in (None, "", "wrong-secret", "test-actions-secret-but-longer"):
        status, body = post_actions(forged_call(), secret=secret)
        assert status == 401, (secret, status)
        assert MARKER.encode() not in body
    # the blind cross-site variant: a text/plain POST from any web page
    status, _ = post_actions(forged_call(), secret=None, content_type="text/plain")
    assert status == 401
    status, _ = post_actions(b"", secret=None, path="/actions", method="GET")
    assert status == 401
    assert count(server["url"], db.cancellation_requests) == before


def test_with_the_secret_a_forged_tracker_still_files_nothing_for_someone_elses_order(server):
    # A call with the secret (as Rasa makes them) with a customer_id slot: the action takes the customer from
    # the channel's stamp, the chat link or the verification record, and "attacker" has none of them.
    before = count(server["url"], db.cancellation_requests)
    status, body = post_actions(forged_call())
    assert status == 200
    assert "CXL-" not in body.decode()
    assert count(server["url"], db.cancellation_requests) == before


def test_health_stays_open(server):
    status, body = post_actions(b"", secret=None, path="/health", method="GET")
    assert status == 200 and json.loads(body) == {"status": "ok"}


def test_bad_calls_get_a_4xx_or_a_plain_500_that_never_echoes_the_request(server):
    for raw in (b"[1, 2]", MARKER.encode(), b'{"next_action": 5}', json.dumps({"next_action": MARKER}).encode(),
                json.dumps({"next_action": "action_answer_question", "tracker": MARKER}).encode()):
        status, body = post_actions(raw)
        assert 400 <= status < 600, (raw, status)
        assert MARKER.encode() not in body and b"Traceback" not in body and b"request_body" not in body, body
    # a thin but well-formed tracker runs (as a stranger) and still echoes nothing of it
    status, body = post_actions(json.dumps({"next_action": "action_answer_question",
                                            "tracker": {"sender_id": MARKER}}).encode())
    assert status == 200 and MARKER.encode() not in body


def test_the_action_server_listens_on_loopback_only(server):
    listening = []
    for line in open("/proc/net/tcp").read().splitlines()[1:] + open("/proc/net/tcp6").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port = local.rsplit(":", 1)
        if int(port, 16) == ACTIONS_PORT and state == "0A":  # LISTEN
            listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, nothing else (not 0.0.0.0, not ::)


def test_guessing_the_email_is_locked_after_five_tries_even_for_the_right_one(server):
    sender = fresh("guesser-1")
    assert "email" in texts(say(sender, "where is my order 8100000000000005"))
    for i in range(5):
        assert "doesn't match" in texts(say(sender, f"my email is guess{i}@example.com"))
    text = texts(say(sender, "my email is demo@example.com"))
    assert "too many attempts" in text and "Winter" not in text and "shipped" not in text
    # another sender cannot continue the guessing on that order
    other = fresh("guesser-2")
    say(other, "status of order 8100000000000005")
    assert "too many attempts" in texts(say(other, "my email is demo@example.com"))


def test_a_one_megabyte_message_is_answered_at_once_while_another_conversation_goes_on(server):
    results: dict[str, tuple[int, float]] = {}

    def send(name: str, body: bytes) -> None:
        start = time.monotonic()
        status, _ = post(body)
        results[name] = (status, time.monotonic() - start)

    huge = json.dumps({"sender": "flooder", "message": "x" * 1_000_000}).encode()
    normal = json.dumps({"sender": "demo", "message": "hello"}).encode()
    threads = [threading.Thread(target=send, args=("huge", huge)),
               threading.Thread(target=send, args=("normal", normal))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["huge"][0] == 413 and results["huge"][1] < 1.0, results
    assert results["normal"][0] == 200 and results["normal"][1] < 5.0, results


def test_a_message_at_the_cap_without_spaces_does_not_hold_up_another_conversation(server):
    from orderdesk.channels.common import MAX_MESSAGE_CHARS

    results: dict[str, tuple[int, float]] = {}

    def send(name: str, body: bytes) -> None:
        start = time.monotonic()
        status, _ = post(body)
        results[name] = (status, time.monotonic() - start)

    dense = json.dumps({"sender": "dense", "message": "a@" * (MAX_MESSAGE_CHARS // 2)}).encode()
    normal = json.dumps({"sender": "demo", "message": "hello"}).encode()
    threads = [threading.Thread(target=send, args=("dense", dense)),
               threading.Thread(target=send, args=("normal", normal))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results["dense"][0] == 200 and results["normal"][0] == 200, results
    assert results["normal"][1] < 5.0, results


def test_logs_carry_no_emails_and_no_long_messages(server):
    say(fresh("logger"), "my email is someone.private@example.org and " + "blah " * 2000)
    say("logger", '/provide_order_number{"order_number":"8100000000000003"} %s %d {0} {x}')  # a button payload
    post_actions(forged_call(), secret="wrong")
    for name in ("rasa.log", "actions.log"):
        text = (server["tmp"] / name).read_text(errors="replace")
        assert "someone.private" not in text, name
        assert not re.search(r"[\w.+-]+@example\.(com|org)", text), name
        assert max((len(line) for line in text.splitlines()), default=0) < 1000, name
        assert "Logging error" not in text and "not all arguments converted" not in text, name


def test_a_verification_ends_with_the_session(server):
    sender = fresh("session-ender")
    say(sender, "where is my refund for order 8100000000000007")
    assert "Alipay" in texts(say(sender, "my email is demo@example.com"))
    assert "Alipay" in texts(say(sender, "and the refund for 8100000000000007?"))  # still verified
    say(sender, "/session_start")  # what 30 minutes idle does: a new session, no slots carried over
    text = texts(say(sender, "where is my refund for order 8100000000000007"))
    assert "email" in text and "Alipay" not in text
