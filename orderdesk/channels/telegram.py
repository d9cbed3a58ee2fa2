"""The Telegram channel (`POST /webhooks/telegram/webhook`), in place of Rasa 3.6's `TelegramInput`.

Rasa's connector calls `setWebhook` inside its own `asyncio.run`, which leaves aiogram's HTTP session bound
to a closed event loop, so the first update fails ("Event loop is closed"); it also accepts any POST and
never answers button presses. This one:

* is on only with `ORDERDESK_TELEGRAM_TOKEN`, `ORDERDESK_TELEGRAM_WEBHOOK_URL` (the public https URL of the
  webhook) and `ORDERDESK_TELEGRAM_SECRET` (letters, digits, `_` and `-`; Telegram sends it back on every
  update). Off, the webhook answers 404 and nothing is called;
* creates the bot inside the server's event loop and registers the webhook once, after the server starts,
  with `secret_token` and only the update types it reads (a raw `setWebhook`: aiogram 2.15 lacks the
  parameter);
* refuses (401) every update without the right `X-Telegram-Bot-Api-Secret-Token` header;
* answers each button press (`answerCallbackQuery`, so the client stops its spinner) and handles an update
  id once (Telegram re-sends an update whose webhook call failed or timed out);
* lays buttons out one per row when a title is long, and sends button payloads as `callback_data`, which
  Telegram limits to 64 bytes (every payload of this bot fits; a longer one is sent as a short key kept in
  memory, and a key the server no longer knows gets a clear answer);
* talks only in private chats (the bot answers about orders; in a group it says so and does nothing else),
  and stamps `{"channel": "telegram"}`: the chat id is a customer's only through `chat_ids.telegram`.

`ORDERDESK_TELEGRAM_API_URL` points aiogram at another Bot API server (tests use a fake one on loopback).
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Optional, Text

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Update
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from .common import MAX_MESSAGE_CHARS, reply_text, same_secret, stamp_identity, too_long, too_long_reply
from .support import Once, settings

log = logging.getLogger(__name__)

ENV = {"token": "ORDERDESK_TELEGRAM_TOKEN", "webhook_url": "ORDERDESK_TELEGRAM_WEBHOOK_URL",
       "secret": "ORDERDESK_TELEGRAM_SECRET", "api_url": "ORDERDESK_TELEGRAM_API_URL"}
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CALLBACK_BYTES = 64  # Telegram's limit on an inline button's callback_data
LONG_TITLE = 20  # buttons go one per row when any title is longer than this
KEY_PREFIX = "k:"
# Replies the channel sends by itself (their texts are in domain.yml).
PRIVATE_ONLY_REPLY = "utter_text_private_chat_only"
EXPIRED_BUTTON_REPLY = "utter_text_button_expired"
NOT_TEXT_REPLY = "utter_text_not_text"


def keyboard(buttons: list[dict[str, Any]], encode: Callable[[str], str]) -> InlineKeyboardMarkup:
    """An inline keyboard: one row when the titles are short, else one button per row."""
    keys = [InlineKeyboardButton(b["title"], callback_data=encode(b["payload"])) for b in buttons]
    markup = InlineKeyboardMarkup()
    if any(len(b["title"]) > LONG_TITLE for b in buttons) or len(buttons) > 3:
        for key in keys:
            markup.row(key)
    else:
        markup.row(*keys)
    return markup


class CallbackCodec:
    """Button payload <-> callback_data. Payloads within 64 bytes travel as they are."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self.long: OrderedDict[str, str] = OrderedDict()

    def encode(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(KEY_PREFIX):
            return payload
        key = KEY_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        self.long[key] = payload
        self.long.move_to_end(key)
        while len(self.long) > self.size:
            self.long.popitem(last=False)
        return key

    def decode(self, data: str) -> Optional[str]:
        return self.long.get(data) if data.startswith(KEY_PREFIX) else data


class TelegramOutput(Bot, OutputChannel):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def __init__(self, token: str, server: TelegramAPIServer, codec: CallbackCodec) -> None:
        Bot.__init__(self, token, server=server)
        self.codec = codec

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self.send_message(recipient_id, part)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        await self.send_message(recipient_id, text, reply_markup=keyboard(buttons, self.codec.encode))

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.send_photo(recipient_id, image)


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[Text, Any]]) -> "TelegramInput":
        return cls(**settings(credentials, ENV))

    def __init__(self, token: Optional[str], webhook_url: Optional[str], secret: Optional[str],
                 api_url: Optional[str] = None) -> None:
        self.token, self.webhook_url, self.secret = token, webhook_url, secret
        self.server = TelegramAPIServer.from_base(api_url) if api_url else TELEGRAM_PRODUCTION
        self.codec = CallbackCodec()
        self.updates = Once()
        self.bot: Optional[TelegramOutput] = None
        if not self.on:
            log.info("Telegram channel: off (set %s, %s and %s)", ENV["token"], ENV["webhook_url"], ENV["secret"])

    @property
    def on(self) -> bool:
        return bool(self.token and self.webhook_url and self.secret)

    def get_output_channel(self) -> Optional[OutputChannel]:
        if not self.on:
            return None
        if self.bot is None:  # created on first use, inside the server's running event loop
            self.bot = TelegramOutput(self.token, self.server, self.codec)
        return self.bot

    async def register_webhook(self) -> None:
        bot = self.get_output_channel()
        await bot.request("setWebhook", {"url": self.webhook_url, "secret_token": self.secret,
                                         "allowed_updates": json.dumps(["message", "callback_query"])})
        log.info("Telegram channel: webhook registered")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"orderdesk_telegram_{id(self)}", __name__)

        @hook.listener("after_server_start")
        async def start(app, loop) -> None:  # noqa: ANN001 - Sanic's listener signature
            if self.on:
                try:
                    await self.register_webhook()
                except Exception:  # noqa: BLE001 - the server runs on; the log says what failed
                    log.exception("Telegram channel: setWebhook failed; updates will not arrive")

        @hook.listener("before_server_stop")
        async def stop(app, loop) -> None:  # noqa: ANN001
            if self.bot is not None:
                await self.bot.close()

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.on else "off"}, status=200 if self.on else 404)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.on:
                return response.json({"error": "the Telegram channel is off"}, status=404)
            if not same_secret(request.headers.get(SECRET_HEADER), self.secret):
                return response.json({"error": "unauthorized"}, status=401)
            try:
                body = request.json
                update = Update.to_object(body) if isinstance(body, dict) else None
            except Exception:  # noqa: BLE001 - malformed update
                update = None
            if update is None:
                return response.json({"error": "not a Telegram update"}, status=400)
            if not isinstance(update.update_id, int) or self.updates.first(update.update_id):
                try:
                    await self.handle(update, on_new_message)
                except Exception:  # noqa: BLE001 - logged; a failed answer is not retried (Telegram would resend)
                    log.exception("Telegram channel: handling update %s failed", update.update_id)
            return response.json({"ok": True})

        return hook

    async def handle(self, update: Update, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        bot = self.get_output_channel()
        if update.callback_query is not None:
            query = update.callback_query
            await bot.answer_callback_query(query.id)
            chat = query.message.chat if query.message else None
            text = self.codec.decode(query.data or "")
            if chat is not None and text is None:
                await bot.send_message(chat.id, reply_text(EXPIRED_BUTTON_REPLY))
                return
        elif update.message is not None:
            chat, text = update.message.chat, update.message.text
        else:
            return  # edited messages and other update types are not read
        if chat is None:
            return
        if chat.type != "private":
            await bot.send_message(chat.id, reply_text(PRIVATE_ONLY_REPLY))
            return
        if not isinstance(text, str):
            await bot.send_message(chat.id, reply_text(NOT_TEXT_REPLY))
            return
        if too_long(text):
            await bot.send_message(chat.id, too_long_reply(len(text), MAX_MESSAGE_CHARS))
            return
        if text.strip() == "/start":  # Telegram's first message: greet
            text = "/greet"
        await on_new_message(UserMessage(text, bot, str(chat.id), input_channel=self.name(),
                                         metadata=stamp_identity(None, self.name())))
