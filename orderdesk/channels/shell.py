"""`make shell`: Rasa's terminal chat, with a channel of ours underneath and on loopback only.

    python -m orderdesk.channels.shell --model MODEL --endpoints endpoints.yml --conversation-id demo

`rasa shell` talks to its own server through a REST webhook that authenticates nobody and stamps nothing, on
every interface. Here the server listens on 127.0.0.1, the webhook answers loopback callers only, and each
message is stamped `{"channel": "cmdline"}`. Who the shell user is follows from the chat link like any
other chat: the demo data links the cmdline chat `demo` to the demo buyer (`chat_ids.cmdline`), so
`make shell` (conversation id `demo`) chats as that buyer; another `--conversation-id` is a stranger.
"""
from __future__ import annotations

import ipaddress
import sys
from typing import Any, Optional, Text

from rasa.core.channels.console import CmdlineInput
from sanic import Blueprint, response
from sanic.request import Request

from .common import stamp_identity


class LocalCmdlineInput(CmdlineInput):
    @classmethod
    def name(cls) -> Text:
        return "cmdline"

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[dict[Text, Any]]:
        return stamp_identity(None, self.name())

    def blueprint(self, on_new_message) -> Blueprint:  # noqa: ANN001 - Rasa's signature
        hook = super().blueprint(on_new_message)

        @hook.middleware("request")
        async def loopback_only(request: Request):  # noqa: ANN202
            try:
                local = ipaddress.ip_address(request.ip).is_loopback
            except ValueError:
                local = False
            if not local:
                return response.json({"error": "the terminal chat answers local callers only"}, status=403)
            # The terminal client sends JSON; a web page cannot send JSON cross-origin without a preflight that
            # this server does not grant, so a page the operator visits cannot talk as the terminal user.
            if request.method == "POST" and not (request.content_type or "").startswith("application/json"):
                return response.json({"error": "JSON only"}, status=415)
            return None

        return hook


def main(argv: Optional[list[str]] = None) -> None:
    from rasa.core import channels

    from orderdesk.servers import rasa as rasa_server

    channels.BUILTIN_CHANNELS["cmdline"] = LocalCmdlineInput
    rasa_server.main(["shell", "--interface", "127.0.0.1", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
