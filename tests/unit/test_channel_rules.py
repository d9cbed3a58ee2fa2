"""The channels' rules without a server: customer tokens and session ids, origins, Telegram's button layout
and 64-byte callback data (every payload the bot can send), Slack's choice blocks and signatures.

Nothing reads the real clock: `NOW` is a fixed Unix time.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from actions.actions import order_buttons
from orderdesk.candidates import Candidate
from orderdesk.channels.common import IDENTITY_KEY
from orderdesk.channels.slack import choice_blocks, signature, signature_ok
from orderdesk.channels.socketio import WidgetSocketIOInput, parse_origins
from orderdesk.channels.telegram import MAX_CALLBACK_BYTES, CallbackCodec, keyboard
from orderdesk.channels.tokens import (issue_customer_token, new_session_id, valid_session_id,
                                       verify_customer_token)
from orderdesk.services import ORDER_ID_RE

ROOT = Path(__file__).resolve().parents[2]
NOW = 1_795_000_000.0  # a fixed instant (2026-11-18)
SECRET = "widget-secret-for-tests"


# --------------------------------------------------------------------------- customer tokens

def test_a_token_names_its_customer_until_it_expires():
    token = issue_customer_token("demo", SECRET, NOW, ttl=600)
    assert verify_customer_token(token, SECRET, NOW) == "demo"
    assert verify_customer_token(token, SECRET, NOW + 599) == "demo"
    assert verify_customer_token(token, SECRET, NOW + 600) is None  # expired: anonymous


@pytest.mark.parametrize("mangle", [
    lambda t: t.replace(t.split(".")[0], issue_customer_token("other", SECRET, NOW).split(".")[0]),  # body swapped
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # signature changed
    lambda t: t + ".x",
    lambda t: "",
    lambda t: "not a token",
    lambda t: "é.é",
    lambda t: None,
    lambda t: 12345,
    lambda t: t * 40,  # over the length cap
])
def test_a_tampered_or_malformed_token_names_nobody(mangle):
    token = issue_customer_token("demo", SECRET, NOW)
    assert verify_customer_token(mangle(token), SECRET, NOW) is None


def test_a_token_signed_with_another_secret_or_checked_without_one_names_nobody():
    token = issue_customer_token("demo", "someone-elses-secret", NOW)
    assert verify_customer_token(token, SECRET, NOW) is None
    assert verify_customer_token(issue_customer_token("demo", SECRET, NOW), None, NOW) is None
    with pytest.raises(ValueError):
        issue_customer_token("demo", "", NOW)


def test_session_ids_are_the_servers_own():
    sid = new_session_id(SECRET)
    assert valid_session_id(sid, SECRET)
    assert not valid_session_id(sid, "another-secret")
    assert not valid_session_id("demo", SECRET)  # a chat id linked by chat_ids cannot be picked
    assert not valid_session_id(sid.split(".")[0] + ".forgedsignature000000", SECRET)
    assert not valid_session_id(None, SECRET)
    assert new_session_id(SECRET) != sid


# --------------------------------------------------------------------------- socket.io channel

def test_the_widget_channel_reads_the_customer_from_a_valid_token_only():
    channel = WidgetSocketIOInput(secret=SECRET, clock=lambda: NOW)
    assert channel.customer_of({"customer_token": issue_customer_token("demo", SECRET, NOW)}) == "demo"
    assert channel.customer_of({"customer_token": issue_customer_token("demo", SECRET, NOW - 10, ttl=5)}) is None
    assert channel.customer_of({"customer_id": "demo"}) is None  # a claim without a signature is nothing
    assert channel.customer_of("demo") is None
    assert WidgetSocketIOInput(secret=None, clock=lambda: NOW).customer_of(
        {"customer_token": issue_customer_token("demo", SECRET, NOW)}) is None


def test_allowed_origins_default_to_the_chat_page_and_take_a_list():
    channel = WidgetSocketIOInput.from_credentials({"allowed_origins": "https://shop.example, http://localhost:8080/"})
    assert channel.allowed_origins == ("https://shop.example", "http://localhost:8080")
    assert channel.origin_allowed("https://shop.example")
    assert not channel.origin_allowed("https://evil.example")
    assert channel.origin_allowed(None)  # not a browser: nothing to protect
    default = WidgetSocketIOInput()
    assert default.origin_allowed("http://localhost:8080") and not default.origin_allowed("http://localhost:9999")
    assert WidgetSocketIOInput(allowed_origins=parse_origins("*")).origin_allowed("https://any.example")


def test_the_widget_channel_reads_custom_data_and_an_unset_secret_keeps_it_anonymous(monkeypatch):
    monkeypatch.delenv("ORDERDESK_WIDGET_SECRET", raising=False)
    channel = WidgetSocketIOInput.from_credentials({"metadata_key": "customData"})
    assert channel.metadata_key == "customData" and channel.customer_secret is None
    assert IDENTITY_KEY == "orderdesk"


# --------------------------------------------------------------------------- every payload the bot can send

def domain_buttons() -> list[dict]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    return [b for variants in domain["responses"].values() for v in variants for b in v.get("buttons", [])]


class _Order:
    def __init__(self, oid: str, item: str) -> None:
        self.id, self.item = oid, item


def generated_buttons() -> list[dict]:
    """The order buttons the actions build, for the longest order id the importer accepts."""
    longest = "9" * int(re.search(r"(\d+)\}", ORDER_ID_RE.pattern).group(1))
    assert ORDER_ID_RE.match(longest) and not ORDER_ID_RE.match(longest + "9")
    candidates = [Candidate(order=_Order(longest, "x" * 200), relevant=True)]  # type: ignore[arg-type]
    return order_buttons(candidates)


def test_every_button_payload_the_bot_can_send_fits_telegrams_callback_data():
    buttons = domain_buttons() + generated_buttons()
    assert len(buttons) > 10  # the walk found the domain's buttons
    too_long = [b["payload"] for b in buttons if len(b["payload"].encode("utf-8")) > MAX_CALLBACK_BYTES]
    assert too_long == []
    codec = CallbackCodec()
    assert all(codec.encode(b["payload"]) == b["payload"] for b in buttons)  # sent as they are


def test_a_longer_payload_travels_as_a_short_key_and_an_unknown_key_is_refused():
    codec = CallbackCodec(size=2)
    payload = '/inform{"note":"' + "é" * 40 + '"}'
    key = codec.encode(payload)
    assert len(key.encode()) <= MAX_CALLBACK_BYTES and codec.decode(key) == payload
    codec.encode("/a" + "x" * 70)
    codec.encode("/b" + "x" * 70)  # the first key falls out of the bounded memory
    assert codec.decode(key) is None
    assert codec.decode("/affirm") == "/affirm"


def test_telegram_buttons_go_one_per_row_when_titles_are_long():
    short = keyboard([{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}], str)
    assert [len(row) for row in short.inline_keyboard] == [2]
    orders = keyboard([{"title": "Smart watch strap (8100000000000002)", "payload": "/p1"},
                       {"title": "Running shoes (8100000000000004)", "payload": "/p2"}], str)
    assert [len(row) for row in orders.inline_keyboard] == [1, 1]
    reasons = keyboard([b for b in domain_buttons()][:6], str)
    assert all(len(row) == 1 for row in reasons.inline_keyboard)


# --------------------------------------------------------------------------- Slack

def test_six_choices_become_a_select_menu_and_few_stay_buttons():
    six = [{"title": f"Reason {i}", "payload": f"/inform{{\"r\":\"{i}\"}}"} for i in range(6)]
    blocks = choice_blocks("Why do you want to cancel?", six)
    menu = blocks[1]["elements"][0]
    assert menu["type"] == "static_select"
    assert [o["value"] for o in menu["options"]] == [b["payload"] for b in six]
    two = choice_blocks("File it?", six[:2])
    assert [e["type"] for e in two[1]["elements"]] == ["button", "button"]
    assert blocks[0]["text"]["text"] == "Why do you want to cancel?"


def test_slack_signatures_are_checked_and_stale_ones_refused():
    body = b'{"type":"event_callback"}'
    ts = str(int(NOW))
    good = signature("s3cret", ts, body)
    assert signature_ok("s3cret", ts, body, good, NOW)
    assert signature_ok("s3cret", ts, body, good, NOW + 299)
    assert not signature_ok("s3cret", ts, body, good, NOW + 301)  # stale: a replay
    assert not signature_ok("s3cret", ts, body + b" ", good, NOW)
    assert not signature_ok("other", ts, body, good, NOW)
    assert not signature_ok("s3cret", "soon", body, good, NOW)
    assert not signature_ok("s3cret", ts, body, "", NOW)


# --------------------------------------------------------------------------- the terminal chat

def test_the_terminal_chat_stamps_its_own_channel_whatever_the_request_says():
    from orderdesk.channels.shell import LocalCmdlineInput

    class Request:  # what the shell's client sends: sender, message, and here a forged channel and stamp
        json = {"sender": "demo", "message": "hi", "input_channel": "rest",
                "metadata": {"orderdesk": {"channel": "socketio", "customer_id": "other"}}}

    channel = LocalCmdlineInput()
    assert channel.get_metadata(Request()) == {"orderdesk": {"channel": "cmdline"}}
    assert channel._extract_input_channel(Request()) == "cmdline"
    assert channel.url_prefix() == "rest"  # where Rasa's terminal client posts
