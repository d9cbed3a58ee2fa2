"""The chat page's web server in-process (no Rasa): its settings, the demo buyer's token, no listings, and a
widget that fetches nothing from outside."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

from channelkit import ROOT, WEB_PORT
from orderdesk.channels.tokens import verify_customer_token
from orderdesk.web import make_server

NOW = 1_795_000_000.0
PORT = WEB_PORT + 1


@pytest.fixture
def serve():
    servers = []

    def start(**kwargs):
        server = make_server("127.0.0.1", PORT, clock=lambda: NOW, **kwargs)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{PORT}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


def get(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def test_the_page_gets_a_token_for_the_demo_buyer_only(serve):
    base = serve(secret="s3cret", customer="demo", ttl=600)
    status, body, headers = get(base + "/api/customer-token?customer=other")  # no way to pick another buyer
    assert status == 200 and headers["Cache-Control"] == "no-store"
    token = json.loads(body)["token"]
    assert verify_customer_token(token, "s3cret", NOW) == "demo"
    assert verify_customer_token(token, "s3cret", NOW + 600) is None


def test_without_a_secret_there_is_no_token_and_the_chat_is_anonymous(serve):
    base = serve(secret=None)
    status, body, _ = get(base + "/api/customer-token")
    assert status == 503 and "anonymous" in json.loads(body)["error"]


def test_the_socket_url_is_configuration(serve):
    base = serve(secret="s", socket_url="https://shop.example", rasa_port=5005)
    assert json.loads(get(base + "/config.json")[1]) == {"socketUrl": "https://shop.example",
                                                        "socketPath": "/socket.io/", "rasaPort": 5005}


def test_the_page_and_the_vendored_widget_are_served_and_nothing_is_listed(serve):
    base = serve(secret="s")
    status, page, _ = get(base + "/")
    assert status == 200 and b"vendor/rasa-webchat/index.js" in page and b"?sender=" not in page
    status, widget, _ = get(base + "/vendor/rasa-webchat/index.js")
    assert status == 200 and b"fonts.googleapis" not in widget and len(widget) > 500_000
    assert get(base + "/vendor/")[0] == 404
    assert (ROOT / "web/vendor/rasa-webchat/LICENSE").read_text().startswith("\n                                 Apache")
