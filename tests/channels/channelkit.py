"""What the channel tests share: ports, secrets, the fake platform APIs. The servers themselves are
conftest.py's fixtures: the running assistant with every channel on: the Rasa server (socket.io, Telegram, Slack), the action
server, the chat page's web server, and a fake Telegram Bot API and Slack Web API on loopback that record
what the bot sends. One set of servers for all the channel tests (session scope).

Ports (env-configurable): ORDERDESK_TEST_CHANNELS_RASA_PORT (15105), ORDERDESK_TEST_CHANNELS_ACTIONS_PORT
(15155), ORDERDESK_TEST_WEB_PORT (15180), ORDERDESK_TEST_FAKE_API_PORT (15190).

Needs the trained model: `make test` trains it and passes its path in ORDERDESK_TEST_MODEL. Without one the
tests that need the servers are skipped, except in CI (CI=true), where they fail.
"""
from __future__ import annotations

import json
import os
import threading
import time
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qs


from orderdesk import ROOT

RASA_PORT = int(os.environ.get("ORDERDESK_TEST_CHANNELS_RASA_PORT", "15105"))
ACTIONS_PORT = int(os.environ.get("ORDERDESK_TEST_CHANNELS_ACTIONS_PORT", "15155"))
WEB_PORT = int(os.environ.get("ORDERDESK_TEST_WEB_PORT", "15180"))
FAKE_API_PORT = int(os.environ.get("ORDERDESK_TEST_FAKE_API_PORT", "15190"))

WIDGET_SECRET = "widget-secret-for-the-channel-tests"
TELEGRAM_TOKEN = "123456:TEST-token"
TELEGRAM_SECRET = "telegram-webhook-secret-for-tests"
SLACK_SECRET = "slack-signing-secret-for-tests"
PAGE_ORIGIN = f"http://127.0.0.1:{WEB_PORT}"
TELEGRAM_DEMO_CHAT = 700100  # linked to the demo buyer (chat_ids.telegram)
TELEGRAM_STRANGER_CHAT = 700200
SLACK_DEMO_USER = "U0DEMOBUYER"  # linked to the demo buyer (chat_ids.slack)


class FakeApis:
    """Telegram's Bot API (/bot<token>/<method>) and Slack's Web API (/api/<method>), recording each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = fake.parse(self.headers.get("Content-Type", ""), raw)
                method = self.path.rstrip("/").rsplit("/", 1)[-1]
                api = "telegram" if self.path.startswith("/bot") else "slack"
                with fake.lock:
                    fake.calls.append({"api": api, "method": method, "body": body, "path": self.path})
                answer = fake.answer(api, method, body)
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", FAKE_API_PORT), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @staticmethod
    def parse(content_type: str, raw: bytes) -> dict[str, Any]:
        if content_type.startswith("application/json"):
            return json.loads(raw or b"{}")
        if content_type.startswith("multipart/form-data"):
            msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw)
            return {part.get_param("name", header="content-disposition"): part.get_content()
                    for part in msg.iter_parts()}
        return {k: v[0] for k, v in parse_qs(raw.decode()).items()}

    def answer(self, api: str, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if api == "slack":
            return {"ok": True, "channel": body.get("channel"), "ts": f"{len(self.calls)}.000100",
                    "message_ts": f"{len(self.calls)}.000100"}
        if method == "sendMessage":
            chat = int(body.get("chat_id", 0))
            return {"ok": True, "result": {"message_id": len(self.calls), "date": 0, "text": body.get("text", ""),
                                           "chat": {"id": chat, "type": "private"}}}
        if method == "getMe":
            return {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Orders", "username": "orders_bot"}}
        return {"ok": True, "result": True}

    def of(self, api: str, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c for c in self.calls if c["api"] == api and c["method"] == method]

    def clear(self) -> None:
        with self.lock:
            self.calls.clear()

    def wait_for(self, check: Callable[[], Any], timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = check()
            if got:
                return got
            time.sleep(0.2)
        raise AssertionError(f"timed out; calls so far: {json.dumps(self.calls)[:3000]}")


