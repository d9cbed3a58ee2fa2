"""Slack as its users meet it: signed Events API payloads (url_verification, messages, a mention in a channel)
and interactive `block_actions` posted to the webhook the way Slack posts them, with Slack's Web API replaced
by a fake server on loopback that records chat.postMessage / chat.postEphemeral.

Slack signs with the current Unix time and the connector compares it with its own clock, so these requests
are signed with the machine's time (the rule itself is tested with a fixed clock in test_channel_rules).
"""
from __future__ import annotations

import itertools
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Optional

import pytest

from channelkit import RASA_PORT, SLACK_DEMO_USER, SLACK_SECRET
from orderdesk import wording
from orderdesk.channels.slack import IN_DM_NOTE, signature

WEBHOOK = f"http://127.0.0.1:{RASA_PORT}/webhooks/slack/webhook"
DATED = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d\d:\d\d UTC")
_ids = itertools.count(1)


def post(body: bytes, content_type: str = "application/json", *, secret: str = SLACK_SECRET,
         age: float = 0, headers: Optional[dict] = None) -> tuple[int, bytes]:
    ts = str(int(time.time() - age))
    h = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
         "X-Slack-Signature": signature(secret, ts, body), **(headers or {})}
    req = urllib.request.Request(WEBHOOK, data=body, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def event(text: str, user: str = SLACK_DEMO_USER, kind: str = "message", channel: str = "D0DM",
          channel_type: str = "im", event_id: Optional[str] = None) -> dict[str, Any]:
    return {"type": "event_callback", "team_id": "T0SHOP", "api_app_id": "A0ORDERS",
            "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": 1_795_000_000,
            "event": {"type": kind, "user": user, "text": text, "channel": channel, "channel_type": channel_type,
                      "ts": f"1795000000.{next(_ids):06d}", "event_ts": "1795000000.000100"}}


def press(value: str, user: str = SLACK_DEMO_USER, menu: bool = False) -> bytes:
    action = ({"type": "static_select", "action_id": "choice_menu", "selected_option": {"value": value}}
              if menu else {"type": "button", "action_id": "choice_0", "value": value})
    payload = {"type": "block_actions", "user": {"id": user}, "channel": {"id": "D0DM"}, "team": {"id": "T0SHOP"},
               "actions": [{**action, "block_id": "b1", "action_ts": f"1795000000.{next(_ids):06d}"}]}
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


def posted(fake, start: int = 0) -> list[dict]:
    return [c["body"] for c in fake.of("slack", "chat.postMessage")][start:]


def settle(fake, start: int, seconds: float = 3.0) -> list[dict]:
    """The messages posted since `start`, once no new one arrived for `seconds`."""
    fake.wait_for(lambda: posted(fake, start))
    count, quiet_since = len(posted(fake, start)), time.monotonic()
    while time.monotonic() - quiet_since < seconds:
        time.sleep(0.2)
        if len(posted(fake, start)) != count:
            count, quiet_since = len(posted(fake, start)), time.monotonic()
    return posted(fake, start)


def elements(message: dict) -> list[dict]:
    return [e for b in message.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]


def restart(user: str = SLACK_DEMO_USER) -> None:
    post(json.dumps(event("/restart", user=user)).encode())
    time.sleep(2)


def test_url_verification_echoes_the_challenge(channels_server):
    status, body = post(json.dumps({"type": "url_verification", "challenge": "c-123", "token": "x"}).encode())
    assert status == 200 and json.loads(body)["challenge"] == "c-123"


@pytest.mark.parametrize("how", ["bad-secret", "stale", "unsigned"])
def test_a_bad_or_stale_signature_is_refused(channels_server, fake_apis, how):
    body = json.dumps(event("why is there no cancel button")).encode()
    before = len(posted(fake_apis))
    if how == "unsigned":
        req = urllib.request.Request(WEBHOOK, data=body, headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=30)
        status = e.value.code
    else:
        status, _ = post(body, secret="wrong" if how == "bad-secret" else SLACK_SECRET,
                         age=600 if how == "stale" else 0)
    assert status == 401
    time.sleep(1)
    assert len(posted(fake_apis)) == before


def test_a_linked_buyer_gets_order_buttons_and_a_dated_answer_in_a_dm_and_a_retry_is_handled_once(
        channels_server, fake_apis):
    restart()
    start = len(posted(fake_apis))
    question = event("why is there no cancel button")
    assert post(json.dumps(question).encode())[0] == 200
    asked = settle(fake_apis, start)
    offered = [e for m in asked for e in elements(m)]
    assert any("Which order" in m["text"] for m in asked), asked
    assert offered and all(e["type"] == "button" for e in offered)
    # Slack retries (any reason): the same event_id is not processed again
    for reason in ("http_error", "http_timeout"):
        status, _ = post(json.dumps(question).encode(),
                         headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": reason})
        assert status == 200
    time.sleep(3)
    assert len(posted(fake_apis)) == start + len(asked)

    chosen = next(e for e in offered if "8100000000000002" in e["value"])
    after = len(posted(fake_apis))
    assert post(press(chosen["value"]), "application/x-www-form-urlencoded")[0] == 200
    answer = settle(fake_apis, after)
    text = "\n".join(m["text"] for m in answer)
    assert "payment is still being checked" in text and DATED.search(text), text
    assert {m["channel"] for m in asked + answer} == {SLACK_DEMO_USER}  # the buyer's DM


def test_six_reasons_show_as_a_select_menu(channels_server, fake_apis):
    restart()
    start = len(posted(fake_apis))
    post(json.dumps(event("I want to cancel order 8100000000000003")).encode())
    offer = settle(fake_apis, start)
    yes = next((e for m in offer for e in elements(m) if e.get("value") == "/affirm"), None)
    assert yes is not None, offer
    after = len(posted(fake_apis))
    post(press(yes["value"]), "application/x-www-form-urlencoded")
    reasons = settle(fake_apis, after)
    menus = [e for m in reasons for e in elements(m) if e["type"] == "static_select"]
    assert menus and len(menus[-1]["options"]) == 6, reasons
    chosen = menus[-1]["options"][1]["value"]
    after = len(posted(fake_apis))
    post(press(chosen, menu=True), "application/x-www-form-urlencoded")
    confirm = settle(fake_apis, after)
    assert any("To confirm" in m["text"] for m in confirm), confirm


def test_a_question_in_a_channel_is_answered_in_a_dm(channels_server, fake_apis):
    restart()
    start = len(posted(fake_apis))
    post(json.dumps(event("<@U0BOT> why is there no cancel button", kind="app_mention", channel="C0PUBLIC",
                          channel_type="channel")).encode())
    answers = settle(fake_apis, start)
    assert answers and {m["channel"] for m in answers} == {SLACK_DEMO_USER}
    notes = [c["body"] for c in fake_apis.of("slack", "chat.postEphemeral")]
    assert {"channel": "C0PUBLIC", "user": SLACK_DEMO_USER, "text": wording.text(IN_DM_NOTE)}.items() <= notes[-1].items()


def test_messages_from_bots_are_ignored(channels_server, fake_apis):
    start = len(posted(fake_apis))
    bot_event = event("why is there no cancel button")
    bot_event["event"]["bot_id"] = "B0ORDERS"
    assert post(json.dumps(bot_event).encode())[0] == 200
    time.sleep(3)
    assert posted(fake_apis, start) == []
