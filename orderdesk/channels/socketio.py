"""The socket.io channel for the rasa-webchat widget, in place of Rasa's `SocketIOInput`.

Load it by module path in credentials.yml (`orderdesk.channels.socketio.WidgetSocketIOInput:`). Differences
from Rasa 3.6.21's channel:

* it awaits `enter_room` (a coroutine since python-socketio 5.10; Rasa's channel does not await it, so the
  replies go to a room nobody joined and the widget shows nothing: RasaHQ/rasa#13027);
* the conversation id is issued and signed by the server (`tokens.new_session_id`): a client resumes its own
  conversation after a reload but cannot pick someone else's id; a message is accepted only for a session
  its socket joined;
* the shop's page passes a signed customer token in the widget's `customData` (`customer_token`); it is
  checked on every message with `ORDERDESK_WIDGET_SECRET`, and a valid one stamps `customer_id`. No token, or
  a bad or expired one: the visitor is anonymous (stamp `{"channel": "socketio"}` only) and the bot asks for
  the order number and email. The token itself is removed before the message reaches Rasa (never stored);
* browsers may connect only from the allowed origins (`allowed_origins`, or `ORDERDESK_ALLOWED_ORIGINS`,
  space- or comma-separated; `*` allows any). Clients that send no `Origin` (not a browser) are let through:
  the origin check protects visitors' browsers, it does not authenticate anyone;
* a message over `MAX_MESSAGE_CHARS`, or one that is not text, gets a clear answer and never reaches Rasa.

One Sanic worker only (socket.io keeps its rooms in the process); several replicas need sticky sessions.
"""
from __future__ import annotations

import json
import logging
import os
import re
import secrets
import time
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from .common import MAX_MESSAGE_CHARS, reply_text, stamp_identity, too_long, too_long_reply
from .tokens import SECRET_ENV, new_session_id, valid_session_id, verify_customer_token

log = logging.getLogger(__name__)

ORIGINS_ENV = "ORDERDESK_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")  # the chat page of `make run`
TOKEN_KEY = "customer_token"
NOT_TEXT_REPLY = "utter_text_not_text"  # the reply's text is in domain.yml


def parse_origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        items = [str(v) for v in value]
    else:
        items = re.split(r"[\s,]+", str(value or ""))
    return tuple(o.strip().rstrip("/") for o in items if o.strip())


class WidgetSocketIOInput(SocketIOInput):
    """socket.io for rasa-webchat 1.x: awaited rooms, server-issued sessions, signed customer tokens."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[Text, Any]]) -> "WidgetSocketIOInput":
        credentials = credentials or {}
        origins = credentials.get("allowed_origins") or os.environ.get(ORIGINS_ENV) or DEFAULT_ORIGINS
        return cls(
            user_message_evt=credentials.get("user_message_evt", "user_uttered"),
            bot_message_evt=credentials.get("bot_message_evt", "bot_uttered"),
            namespace=credentials.get("namespace"),
            session_persistence=bool(credentials.get("session_persistence", True)),
            socketio_path=credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "customData"),
            secret=credentials.get("secret") or os.environ.get(SECRET_ENV),
            allowed_origins=parse_origins(origins),
            max_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS),
        )

    def __init__(self, user_message_evt: Text = "user_uttered", bot_message_evt: Text = "bot_uttered",
                 namespace: Optional[Text] = None, session_persistence: bool = True,
                 socketio_path: Optional[Text] = "/socket.io", metadata_key: Text = "customData",
                 secret: Optional[str] = None, allowed_origins: tuple[str, ...] = DEFAULT_ORIGINS,
                 max_chars: int = MAX_MESSAGE_CHARS, clock: Callable[[], float] = time.time) -> None:
        super().__init__(user_message_evt, bot_message_evt, namespace, session_persistence, socketio_path,
                         None, "HS256", metadata_key)
        self.customer_secret = secret or None
        if not self.customer_secret:
            log.warning("socket.io channel: no %s set; every widget visitor is anonymous", SECRET_ENV)
        # Session ids are signed with the widget secret, or (without one) a key that lives as long as the process.
        self.session_secret = self.customer_secret or secrets.token_urlsafe(32)
        self.allowed_origins = allowed_origins
        self.max_chars = max_chars
        self.clock = clock

    def origin_allowed(self, origin: Optional[str]) -> bool:
        if not origin:
            return True
        return "*" in self.allowed_origins or origin.rstrip("/") in self.allowed_origins

    def customer_of(self, custom_data: Any) -> Optional[str]:
        token = custom_data.get(TOKEN_KEY) if isinstance(custom_data, dict) else None
        return verify_customer_token(token, self.customer_secret, self.clock()) if token else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # Rasa's `--cors` answers the browser's CORS questions; engineio's own CORS headers stay off (they
        # would be sent twice), and the origin is checked here, at connect.
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        hook = SocketBlueprint(sio, self.socketio_path, f"orderdesk_socketio_{id(self)}", __name__)
        self.sio = sio
        ns = self.namespace

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=ns)
        async def connect(sid: Text, environ: dict, auth: Optional[dict] = None) -> bool:
            origin = environ.get("HTTP_ORIGIN")
            if not self.origin_allowed(origin):
                log.warning("socket.io: refused a connection from origin %r (not in allowed origins)", origin)
                return False
            return True

        @sio.on("session_request", namespace=ns)
        async def session_request(sid: Text, data: Any) -> None:
            asked = data.get("session_id") if isinstance(data, dict) else None
            session_id = asked if valid_session_id(asked, self.session_secret) else new_session_id(self.session_secret)
            await sio.enter_room(sid, session_id, namespace=ns)
            await sio.emit("session_confirm", session_id, room=sid, namespace=ns)

        @sio.on(self.user_message_evt, namespace=ns)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or session_id not in sio.rooms(sid, namespace=ns):
                log.warning("socket.io: a message for a session this socket has not joined was ignored")
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            text = data.get("message")
            if not isinstance(text, str):
                await output.send_text_message(session_id, reply_text(NOT_TEXT_REPLY))
                return
            if too_long(text, self.max_chars):
                await output.send_text_message(session_id, too_long_reply(len(text), self.max_chars))
                return
            custom = data.get(self.metadata_key) or {}
            if isinstance(custom, str):
                try:
                    custom = json.loads(custom)
                except ValueError:
                    custom = {}
            customer = self.customer_of(custom)
            client_metadata = {k: v for k, v in custom.items() if k != TOKEN_KEY} if isinstance(custom, dict) else {}
            await on_new_message(UserMessage(text, output, session_id, input_channel=self.name(),
                                             metadata=stamp_identity(client_metadata, self.name(), customer)))

        return hook
