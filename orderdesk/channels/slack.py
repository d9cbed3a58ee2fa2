"""The Slack channel (`POST /webhooks/slack/webhook`: Events API and interactivity), in place of Rasa's.

Rasa 3.6's connector drops every button of a message with more than five (the cancellation and dispute
reasons have six) and processes again a retry whose reason is not `http_timeout`. This one:

* is on only with `ORDERDESK_SLACK_TOKEN` (the bot token, `xoxb-...`) and `ORDERDESK_SLACK_SIGNING_SECRET`;
  off, the webhook answers 404;
* checks Slack's signature on every request (`X-Slack-Signature`, HMAC-SHA256 of `v0:timestamp:body`) and
  refuses (401) a bad one or a timestamp more than five minutes off;
* handles each event once, by `event_id`, whatever the retry's reason, and each button press once; it
  answers Slack at once and works in the background (Slack retries after 3 seconds);
* reads direct messages and mentions, never messages of bots (its own included);
* answers in a direct message to the buyer (`chat.postMessage` to the user id), never in a channel: a
  question asked in a channel gets only a note visible to the asker that the answer is in their DMs;
* shows up to five choices as buttons, more as a select menu;
* stamps `{"channel": "slack"}` with the Slack user id as the sender: the user is a customer only through
  `chat_ids.slack`.

`ORDERDESK_SLACK_API_URL` points the Web API client elsewhere (tests use a fake server on loopback).
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Awaitable, Callable, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from .common import MAX_MESSAGE_CHARS, reply_text, stamp_identity, too_long, too_long_reply
from .support import Once, settings

log = logging.getLogger(__name__)

ENV = {"token": "ORDERDESK_SLACK_TOKEN", "signing_secret": "ORDERDESK_SLACK_SIGNING_SECRET",
       "api_url": "ORDERDESK_SLACK_API_URL"}
MAX_SKEW_SECONDS = 300
MAX_BUTTONS = 5  # Slack shows more in an actions block, but Rasa's connector did not; a menu reads better
TITLE_CHARS = 75  # Slack's limit on a button or option text
IN_DM_NOTE = "utter_text_answered_in_dm"  # the note's text is in domain.yml


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def signature_ok(secret: str, timestamp: str, body: bytes, given: str, now: float) -> bool:
    """Slack's request signature, and a timestamp within five minutes of `now` (no replays of old requests)."""
    try:
        if abs(now - int(timestamp)) > MAX_SKEW_SECONDS:
            return False
    except ValueError:
        return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii"))


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text[:TITLE_CHARS], "emoji": True}


def choice_blocks(text: str, buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Slack blocks for a question with choices: buttons up to five, a select menu beyond."""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    if len(buttons) <= MAX_BUTTONS:
        elements = [{"type": "button", "action_id": f"choice_{i}", "text": _plain(b["title"]),
                     "value": b["payload"]} for i, b in enumerate(buttons)]
    else:
        elements = [{"type": "static_select", "action_id": "choice_menu", "placeholder": _plain("Choose one"),
                     "options": [{"text": _plain(b["title"]), "value": b["payload"]} for b in buttons]}]
    blocks.append({"type": "actions", "elements": elements})
    return blocks


class SlackOutput(OutputChannel):
    """Everything goes to the user's direct message with the app (the recipient id is a user id)."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self.client.chat_postMessage(channel=recipient_id, text=part, mrkdwn=True)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.client.chat_postMessage(channel=recipient_id, text=text, blocks=choice_blocks(text, buttons))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.client.chat_postMessage(channel=recipient_id, text=image,
                                           blocks=[{"type": "image", "image_url": image, "alt_text": "image"}])


class SlackInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[Text, Any]]) -> "SlackInput":
        return cls(**settings(credentials, ENV))

    def __init__(self, token: Optional[str], signing_secret: Optional[str], api_url: Optional[str] = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.token, self.signing_secret = token, signing_secret
        self.api_url = api_url.rstrip("/") + "/" if api_url else None
        self.clock = clock
        self.once = Once()
        self.tasks: set[asyncio.Task] = set()
        if not self.on:
            log.info("Slack channel: off (set %s and %s)", ENV["token"], ENV["signing_secret"])

    @property
    def on(self) -> bool:
        return bool(self.token and self.signing_secret)

    def client(self) -> AsyncWebClient:
        kwargs = {"base_url": self.api_url} if self.api_url else {}
        return AsyncWebClient(token=self.token, **kwargs)

    def get_output_channel(self) -> Optional[OutputChannel]:
        return SlackOutput(self.client()) if self.on else None

    def signed(self, request: Request) -> bool:
        return signature_ok(self.signing_secret, request.headers.get("X-Slack-Request-Timestamp", ""),
                            request.body, request.headers.get("X-Slack-Signature", ""), self.clock())

    def later(self, work: Awaitable[Any]) -> None:
        """Runs `work` after the answer to Slack (Slack wants one within 3 seconds)."""
        async def run() -> None:
            try:
                await work
            except Exception:  # noqa: BLE001 - logged; Slack got its 200 already
                log.exception("Slack channel: handling a message failed")
        task = asyncio.get_running_loop().create_task(run())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"orderdesk_slack_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.on else "off"}, status=200 if self.on else 404)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.on:
                return response.json({"error": "the Slack channel is off"}, status=404)
            if not self.signed(request):
                return response.json({"error": "bad or stale signature"}, status=401)
            content_type = request.headers.get("content-type", "")
            try:
                if content_type.startswith("application/x-www-form-urlencoded"):
                    form = parse_qs(request.body.decode("utf-8"))
                    body = json.loads(form.get("payload", ["null"])[0])
                else:
                    body = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "not a Slack payload"}, status=400)
            kind = body.get("type")
            if kind == "url_verification":
                return response.json({"challenge": body.get("challenge")})
            if kind == "event_callback":
                event = body.get("event") or {}
                if self.once.first(f"event:{body.get('event_id')}") and self.is_user_message(event):
                    self.later(self.on_event(event, on_new_message))
                return response.text("")
            if kind == "block_actions":
                self.on_actions(body, on_new_message)
                return response.text("")
            return response.text("")

        return hook

    @staticmethod
    def is_user_message(event: dict[str, Any]) -> bool:
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return False
        return event.get("type") == "app_mention" or (event.get("type") == "message"
                                                     and event.get("channel_type") == "im")

    async def on_event(self, event: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        user, text = event["user"], event.get("text") or ""
        if event.get("type") == "app_mention":
            text = " ".join(w for w in text.split() if not (w.startswith("<@") and w.endswith(">")))
            if event.get("channel_type") != "im" and event.get("channel"):
                await self.client().chat_postEphemeral(channel=event["channel"], user=user, text=reply_text(IN_DM_NOTE))
        await self.deliver(user, text, on_new_message)

    def on_actions(self, body: dict[str, Any], on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        user = (body.get("user") or {}).get("id")
        for action in body.get("actions") or []:
            value = action.get("value") or (action.get("selected_option") or {}).get("value")
            key = f"action:{user}:{action.get('action_ts')}:{action.get('block_id')}:{action.get('action_id')}"
            if user and isinstance(value, str) and self.once.first(key):
                self.later(self.deliver(user, value, on_new_message))

    async def deliver(self, user: str, text: str, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        output = SlackOutput(self.client())
        if too_long(text):
            await output.send_text_message(user, too_long_reply(len(text), MAX_MESSAGE_CHARS))
            return
        await on_new_message(UserMessage(text, output, user, input_channel=self.name(),
                                         metadata=stamp_identity(None, self.name())))
