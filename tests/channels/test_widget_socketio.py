"""The web widget's channel as rasa-webchat uses it: socket.io (EIO=4) with `session_request`,
`user_uttered` (message, customData, session_id) and `bot_uttered`, against the running assistant.

python-socketio's client uses the polling transport here (its websocket transport needs a newer aiohttp);
the browser test covers the widget itself.
"""
from __future__ import annotations

import asyncio
import re
from typing import Any, Optional

import pytest
import socketio

from orderdesk.channels.common import MAX_MESSAGE_CHARS
from orderdesk.channels.tokens import issue_customer_token
from channelkit import PAGE_ORIGIN, RASA_PORT, WIDGET_SECRET

DATED = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2}( \d{4})?, \d\d:\d\d UTC")
URL = f"http://127.0.0.1:{RASA_PORT}"


class Widget:
    """One page load of the widget: connect, ask for a session, talk."""

    def __init__(self, custom: Optional[dict] = None, origin: str = PAGE_ORIGIN) -> None:
        self.custom = custom or {}
        self.origin = origin
        self.client = socketio.AsyncClient(reconnection=False)
        self.replies: list[dict[str, Any]] = []
        self.session: Optional[str] = None
        self.confirmed = asyncio.Event()
        self.client.on("bot_uttered", self.replies.append)
        self.client.on("session_confirm", self._confirm)

    async def _confirm(self, session_id: str) -> None:
        self.session = session_id
        self.confirmed.set()

    async def open(self, session_id: Optional[str] = None) -> str:
        await self.client.connect(URL, headers={"Origin": self.origin}, transports=["polling"],
                                  socketio_path="/socket.io", wait_timeout=20)
        await self.client.emit("session_request", {"session_id": session_id})
        await asyncio.wait_for(self.confirmed.wait(), 20)
        return self.session

    async def say(self, message: str, quiet: float = 2.5, timeout: float = 90) -> list[dict[str, Any]]:
        start = len(self.replies)
        await self.client.emit("user_uttered", {"message": message, "customData": self.custom,
                                                "session_id": self.session})
        loop = asyncio.get_running_loop()
        deadline, seen, last = loop.time() + timeout, start, loop.time()
        while loop.time() < deadline:
            await asyncio.sleep(0.2)
            if len(self.replies) != seen:
                seen, last = len(self.replies), loop.time()
            elif seen > start and loop.time() - last > quiet:
                break
        return self.replies[start:]

    async def close(self) -> None:
        # The client sends its close packets at once and then waits for the long-poll request in flight,
        # which the server answers only at its next ping (about 30 s): give that wait a few seconds only.
        try:
            await asyncio.wait_for(self.client.disconnect(), CLOSE_WAIT)
        except asyncio.TimeoutError:
            pass


CLOSE_WAIT = 3.0  # seconds


def text(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in r.get("quick_replies") or []]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def issued_now(channels_server):
    """A token issued by the chat page's own endpoint (the server's clock), as the page gets it."""
    import json
    import urllib.request

    with urllib.request.urlopen(channels_server["page"] + "api/customer-token", timeout=10) as r:
        return json.loads(r.read())["token"]


def test_a_signed_in_buyer_gets_their_orders_as_buttons_and_a_dated_answer_after_a_reload(channels_server, issued_now):
    async def go():
        page = Widget({"customer_token": issued_now})
        session = await page.open()
        asked = await page.say("why is there no cancel button")
        offered = buttons(asked)
        assert "Which order" in text(asked), text(asked)
        assert 1 <= len(offered) <= 5 and all(b["payload"].startswith("/provide_order_number") for b in offered)
        await page.close()
        # a reload: the widget asks for its stored session and gets the same conversation back
        again = Widget({"customer_token": issued_now})
        assert await again.open(session) == session
        chosen = next(b for b in offered if "8100000000000002" in b["payload"])
        answer = await again.say(chosen["payload"])
        await again.close()
        return answer

    answer = run(go())
    assert "payment is still being checked" in text(answer), text(answer)
    assert DATED.search(text(answer)), text(answer)


@pytest.mark.parametrize("custom", [
    {},
    {"customer_token": "not-a-token"},
    {"customer_token": issue_customer_token("demo", "some-other-secret", 4_000_000_000)},
    {"customer_token": issue_customer_token("demo", WIDGET_SECRET, 0, ttl=60)},  # expired in 1970
    {"orderdesk": {"channel": "rest", "customer_id": "demo"}},  # a forged stamp is overwritten
], ids=["none", "malformed", "wrong-secret", "expired", "forged-stamp"])
def test_without_a_valid_token_the_visitor_is_anonymous_and_asked_for_the_order(channels_server, custom):
    async def go():
        page = Widget(custom)
        await page.open()
        replies = await page.say("why is there no cancel button")
        await page.close()
        return replies

    replies = run(go())
    assert "order number" in text(replies), text(replies)
    assert not any("8100000000000002" in b["payload"] for b in buttons(replies))


def test_a_client_cannot_pick_a_session_id(channels_server):
    async def go():
        page = Widget()
        got = await page.open("demo")  # the socket.io chat id the demo data links to the demo buyer
        await page.close()
        return got

    got = run(go())
    assert got != "demo" and re.fullmatch(r"[0-9a-f]{32}\.[\w-]{22}", got)


def test_a_page_from_another_origin_cannot_connect(channels_server):
    async def go():
        page = Widget(origin="https://evil.example")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await page.open()
        await page.close()

    run(go())


def test_an_oversize_message_gets_a_clear_answer(channels_server):
    async def go():
        page = Widget()
        await page.open()
        replies = await page.say("x" * (MAX_MESSAGE_CHARS + 1), quiet=1)
        await page.close()
        return replies

    replies = run(go())
    assert "too long" in text(replies) and f"{MAX_MESSAGE_CHARS:,}" in text(replies)
