"""Telegram as its users meet it: real `Update` JSON posted to the webhook the way Telegram posts it, and the
bot's Bot API calls (setWebhook, sendMessage, answerCallbackQuery) received by a fake Bot API on loopback."""
from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.request
from typing import Any, Optional

import pytest

from channelkit import RASA_PORT, TELEGRAM_DEMO_CHAT, TELEGRAM_SECRET, TELEGRAM_STRANGER_CHAT
from orderdesk import wording
from orderdesk.channels.telegram import MAX_CALLBACK_BYTES, PRIVATE_ONLY_REPLY

WEBHOOK = f"http://127.0.0.1:{RASA_PORT}/webhooks/telegram/webhook"
DATED = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d\d:\d\d UTC")
_ids = itertools.count(500_000)


def post(update: dict, secret: Optional[str] = TELEGRAM_SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    req = urllib.request.Request(WEBHOOK, data=json.dumps(update).encode(), headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=90) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def person(chat: int) -> dict[str, Any]:
    return {"id": chat, "is_bot": False, "first_name": "Ana", "language_code": "en"}


def text_update(chat: int, text: str, chat_type: str = "private") -> dict[str, Any]:
    chat_obj = {"id": chat, "type": chat_type, **({"first_name": "Ana"} if chat_type == "private" else
                                                  {"title": "Shoppers"})}
    return {"update_id": next(_ids), "message": {"message_id": next(_ids), "from": person(abs(chat)),
                                                 "chat": chat_obj, "date": 1_795_000_000, "text": text}}


def button_update(chat: int, data: str) -> dict[str, Any]:
    bot = {"id": 1, "is_bot": True, "first_name": "Orders", "username": "orders_bot"}
    return {"update_id": next(_ids), "callback_query": {
        "id": f"cbq{next(_ids)}", "from": person(chat), "chat_instance": "-4242", "data": data,
        "message": {"message_id": next(_ids), "from": bot, "chat": {"id": chat, "type": "private", "first_name": "Ana"},
                    "date": 1_795_000_000, "text": "Which order is it about?"}}}


def sent_to(fake, chat: int) -> list[dict]:
    return [c["body"] for c in fake.of("telegram", "sendMessage") if str(c["body"].get("chat_id")) == str(chat)]


def keyboard_of(message: dict) -> list[list[dict]]:
    markup = message.get("reply_markup")
    return json.loads(markup)["inline_keyboard"] if markup else []


def test_the_webhook_is_registered_with_a_secret_token(channels_server, fake_apis):
    calls = fake_apis.wait_for(lambda: fake_apis.of("telegram", "setWebhook"))
    body = calls[0]["body"]
    assert body["secret_token"] == TELEGRAM_SECRET
    assert body["url"] == "https://bot.example.test/webhooks/telegram/webhook"
    assert calls[0]["path"].startswith("/bot123456:TEST-token/")


@pytest.mark.parametrize("secret", [None, "", "wrong-secret"])
def test_an_update_without_the_secret_header_is_refused(channels_server, fake_apis, secret):
    before = len(fake_apis.of("telegram", "sendMessage"))
    assert post(text_update(TELEGRAM_DEMO_CHAT, "why is there no cancel button"), secret=secret) == 401
    assert len(fake_apis.of("telegram", "sendMessage")) == before


def test_a_linked_buyer_picks_an_order_with_a_button_and_gets_a_dated_answer(channels_server, fake_apis):
    chat = TELEGRAM_DEMO_CHAT
    assert post(text_update(chat, "/restart")) == 200
    start = len(sent_to(fake_apis, chat))
    assert post(text_update(chat, "why is there no cancel button")) == 200
    asked = fake_apis.wait_for(lambda: [m for m in sent_to(fake_apis, chat)[start:] if keyboard_of(m)])
    rows = keyboard_of(asked[-1])
    assert "Which order" in asked[-1]["text"]
    assert rows and all(len(row) == 1 for row in rows)  # long titles: one button per row
    assert all(len(b["callback_data"].encode()) <= MAX_CALLBACK_BYTES for row in rows for b in row)
    chosen = next(b for row in rows for b in row if "8100000000000002" in b["text"])

    press = button_update(chat, chosen["callback_data"])
    after = len(sent_to(fake_apis, chat))
    assert post(press) == 200
    answers = [c["body"] for c in fake_apis.of("telegram", "answerCallbackQuery")]
    assert press["callback_query"]["id"] in [a.get("callback_query_id") for a in answers]
    text = "\n".join(m["text"] for m in sent_to(fake_apis, chat)[after:])
    assert "payment is still being checked" in text and DATED.search(text), text

    # Telegram re-sends an update whose delivery failed: handled once
    settled = len(sent_to(fake_apis, chat))
    assert post(press) == 200
    assert len(sent_to(fake_apis, chat)) == settled


def test_an_unlinked_chat_is_asked_for_the_order_number(channels_server, fake_apis):
    chat = TELEGRAM_STRANGER_CHAT
    start = len(sent_to(fake_apis, chat))
    assert post(text_update(chat, "why is there no cancel button")) == 200
    text = "\n".join(m["text"] for m in sent_to(fake_apis, chat)[start:])
    assert "order number" in text, text
    assert "8100000000000002" not in text


def test_a_group_chat_is_told_to_write_privately(channels_server, fake_apis):
    group = -100_777
    assert post(text_update(group, "why is there no cancel button", chat_type="group")) == 200
    assert [m["text"] for m in sent_to(fake_apis, group)] == [wording.text(PRIVATE_ONLY_REPLY)]


def test_a_body_that_is_not_an_update_is_refused(channels_server):
    req = urllib.request.Request(WEBHOOK, data=b"[1, 2]", headers={
        "Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=30)
    assert e.value.code == 400
