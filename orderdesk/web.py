"""The chat page's web server: the static page with the rasa-webchat widget, its settings, and a token.

    python -m orderdesk.web [--port 8080] [--bind 127.0.0.1]

* `GET /` and the files under `web/` (no directory listings);
* `GET /config.json`: where the widget finds the bot. `ORDERDESK_SOCKET_URL` (e.g. `https://shop.example`
  behind a reverse proxy that forwards `/socket.io/` to Rasa) when set; otherwise the page uses its own scheme
  and host with the Rasa port (`ORDERDESK_RASA_PORT`, default 5005);
* `GET /api/customer-token`: a signed customer token (`orderdesk.channels.tokens`) for the page's logged-in
  buyer. This is the step a shop's backend does for its own session; the demo has one buyer,
  `ORDERDESK_DEMO_CUSTOMER` (default `demo`), and no way for a visitor to pick another. It needs
  `ORDERDESK_WIDGET_SECRET` (the Rasa side verifies with the same secret); without it the answer is 503 and
  the page chats anonymously.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Optional

from orderdesk.channels.tokens import DEFAULT_TTL_SECONDS, SECRET_ENV, issue_customer_token

WEB_ROOT = Path(__file__).resolve().parents[1] / "web"


class ChatPageHandler(SimpleHTTPRequestHandler):
    settings: dict = {}

    def end_headers(self) -> None:
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        super().end_headers()

    def _json(self, status: int, body: dict) -> None:
        raw = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        path = self.path.split("?", 1)[0]
        s = self.settings
        if path == "/config.json":
            return self._json(200, {"socketUrl": s["socket_url"], "socketPath": "/socket.io/",
                                    "rasaPort": s["rasa_port"]})
        if path == "/api/customer-token":
            if not s["secret"]:
                return self._json(503, {"error": f"no {SECRET_ENV} configured: the chat is anonymous"})
            token = issue_customer_token(s["customer"], s["secret"], s["clock"](), s["ttl"])
            return self._json(200, {"token": token, "expires_in": s["ttl"]})
        return super().do_GET()

    def list_directory(self, path):  # no listings
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")
        return None

    def log_message(self, format: str, *args) -> None:  # one line per request, no query strings
        super().log_message(format, *[a.split("?", 1)[0] if isinstance(a, str) else a for a in args])


def make_server(bind: str, port: int, *, secret: Optional[str], customer: str = "demo",
                socket_url: Optional[str] = None, rasa_port: int = 5005, ttl: int = DEFAULT_TTL_SECONDS,
                clock: Callable[[], float] = time.time, root: Path = WEB_ROOT) -> ThreadingHTTPServer:
    settings = {"secret": secret or None, "customer": customer, "socket_url": socket_url or None,
                "rasa_port": rasa_port, "ttl": ttl, "clock": clock}
    handler = type("Handler", (ChatPageHandler,), {"settings": settings})
    return ThreadingHTTPServer((bind, port), functools.partial(handler, directory=str(root)))


def main(argv: Optional[list[str]] = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    ap.add_argument("--bind", default=os.environ.get("ORDERDESK_BIND", "127.0.0.1"))
    args = ap.parse_args(argv)
    server = make_server(args.bind, args.port, secret=os.environ.get(SECRET_ENV),
                         customer=os.environ.get("ORDERDESK_DEMO_CUSTOMER", "demo"),
                         socket_url=os.environ.get("ORDERDESK_SOCKET_URL"),
                         rasa_port=int(os.environ.get("ORDERDESK_RASA_PORT", "5005")))
    print(f"chat page on http://{args.bind}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
