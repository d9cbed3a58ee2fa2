"""Plays scripted conversations against a running bot (REST channel) and prints them as Markdown.

    .venv/bin/python scripts/converse.py [--url http://localhost:5005]

The README's demo conversations were copied from this script's output (`make run` first).
"""
from __future__ import annotations

import argparse
import json
import os
import urllib.request
from pathlib import Path

CONVERSATIONS = {
    "Why is there no cancel button?": ("demo", [
        "why is there no cancel button",
        ('/provide_order_number{"order_number":"8100000000000002"}', "[Smart watch strap (8100000000000002)]"),
    ]),
    "How do I get a refund?": ("stranger-42", [
        "how do I get a refund",
        "it's 8100000000000003",
        "my email is demo@example.com",
        ("/affirm", "[Yes, file it]"),
        ('/inform{"cancel_reason":"duplicate_order"}', "[I placed a duplicate order]"),
        ("/affirm", "[Yes, file it]"),
    ]),
    "The seller rejected my cancellation": ("demo", [
        "the seller rejected my cancellation",  # the only order with a rejected cancellation: answered at once
        ("/affirm", "[Yes, open one]"),
        ('/inform{"dispute_reason":"tracking_stalled"}', "[Tracking isn't moving]"),
        "the tracking number shows nothing at all since he rejected",  # a parcel that hasn't come: full refund
        ("/affirm", "[Yes, open it]"),
    ]),
}


def rest_token() -> str:
    """The REST channel's bearer token: ORDERDESK_REST_TOKEN, or the one `make run` generated."""
    token = os.environ.get("ORDERDESK_REST_TOKEN")
    if not token:
        path = Path(__file__).resolve().parents[1] / "var" / "rest-token"
        token = path.read_text().strip() if path.exists() else ""
    if not token:
        raise SystemExit("no REST token: set ORDERDESK_REST_TOKEN or start the bot with `make run` first")
    return token


def say(url: str, sender: str, message: str) -> list[dict]:
    req = urllib.request.Request(f"{url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": sender, "message": message}).encode(),
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {rest_token()}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://localhost:5005")
    args = ap.parse_args()
    for title, (sender, turns) in CONVERSATIONS.items():
        say(args.url, sender, "/restart")
        print(f"**{title}** (sender `{sender}`)\n\n```")
        for turn in turns:
            message, shown = turn if isinstance(turn, tuple) else (turn, turn)
            print(f"buyer: {shown}")
            for reply in say(args.url, sender, message):
                if reply.get("text"):
                    print("bot:   " + reply["text"].replace("\n", "\n       "))
                if reply.get("buttons"):
                    print("       " + " ".join(f"[{b['title']}]" for b in reply["buttons"]))
        print("```\n")


if __name__ == "__main__":
    main()
