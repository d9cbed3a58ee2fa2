"""The REST channel for the shop's own backend: `POST /webhooks/rest/webhook` with a bearer token.

In place of Rasa's `RestInput`, which takes the sender and even the input channel from the request body and
authenticates nobody. Here:

* the caller must send `Authorization: Bearer <token>`, the token being `ORDERDESK_REST_TOKEN` (or `token:` in
  credentials.yml); without it, or when no token is configured at all, the answer is 401 and nothing runs;
* with it, the caller (the shop's backend) names the sender, which must be a non-empty string of at most 128
  characters; the conversation's channel is always `rest` (`input_channel` in the body is ignored), and a
  sender is a known customer only through that customer's `chat_ids` for `rest`;
* a body that is not a JSON object, a missing or non-string `message`, or a message over the cap gets a 4xx
  with a one-line reason and no traceback (the oversize message gets the bot's clear answer as a 413 body);
  client metadata over 4,096 characters is refused (413): it would be stored with every event.
"""
from __future__ import annotations

import json
import logging
import os
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from .common import MAX_MESSAGE_CHARS, same_secret, stamp_identity, too_long, too_long_reply

log = logging.getLogger(__name__)

TOKEN_ENV = "ORDERDESK_REST_TOKEN"
MAX_SENDER_CHARS = 128
MAX_METADATA_CHARS = 4_096


class TokenRestInput(InputChannel):
    """REST for trusted integrations: bearer token, server-side channel name, bounded input."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[Text, Any]]) -> "TokenRestInput":
        credentials = credentials or {}
        return cls(token=credentials.get("token") or os.environ.get(TOKEN_ENV),
                   max_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS))

    def __init__(self, token: Optional[str] = None, max_chars: int = MAX_MESSAGE_CHARS) -> None:
        self.token = token or None
        self.max_chars = max_chars
        if not self.token:
            log.warning("REST channel: no %s set; every request is refused (401)", TOKEN_ENV)

    def _authorised(self, request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and same_secret(given.strip(), self.token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"orderdesk_rest_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authorised(request):
                return response.json({"error": "unauthorized: send Authorization: Bearer <token>"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="orderdesk"'})
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - Sanic raises its own error types for bad JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "the body must be a JSON object"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
                return response.json({"error": f"'sender' must be a string of 1-{MAX_SENDER_CHARS} characters"},
                                     status=400)
            if not isinstance(text, str):
                return response.json({"error": "'message' must be a string"}, status=400)
            if too_long(text, self.max_chars):
                return response.json([{"recipient_id": sender, "text": too_long_reply(len(text), self.max_chars)}],
                                     status=413)
            if len(json.dumps(body.get("metadata"), default=str)) > MAX_METADATA_CHARS:
                # Metadata is kept with every event of the conversation: a client cannot grow it at will.
                return response.json({"error": f"'metadata' is limited to {MAX_METADATA_CHARS:,} characters"},
                                     status=413)
            collector = CollectingOutputChannel()
            metadata = stamp_identity(body.get("metadata"), self.name())
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=metadata))
            except Exception:  # noqa: BLE001 - logged without the message; the caller gets no traceback
                log.exception("REST channel: the message from sender of length %d failed", len(sender))
                return response.json({"error": "the assistant could not answer; try again"}, status=500)
            return response.json(collector.messages)

        return hook
