"""Per-message latency of a running bot over the REST channel, one message at a time.

Plays the same short script for the demo buyer (REST sender `demo`, linked to customer `demo` by the
demo data) against any running release of this bot, so two releases can be compared on one machine:

    python benchmarks/rest_latency.py --url http://127.0.0.1:5005 [--token "$(cat var/rest-token)"] [--rounds 20]

Each round restarts the conversation (`/restart`, not timed), then sends the headline questions and
their follow-ups. Prints p50/p95/p99 and the mean over every timed message, and how many replies were
empty or errors. A script that prints figures: no target is asserted here.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import urllib.error
import urllib.request

# Typed, not clicked: button payloads differ between releases, typed text does not.
SCRIPT = (
    "hi",
    "why is there no cancel button",
    "8100000000000002",
    "how do I get a refund",
    "8100000000000003",
    "the seller rejected my cancellation",
    "where is my refund for order 8100000000000012",
    "thanks",
)


def post(url: str, token: str, sender: str, message: str) -> list:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{url}/webhooks/rest/webhook", headers=headers,
                                 data=json.dumps({"sender": sender, "message": message}).encode())
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"[]")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:5005")
    p.add_argument("--token", default="", help="the REST channel's bearer token, when it asks for one")
    p.add_argument("--sender", default="demo")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--label", default="")
    args = p.parse_args(argv)

    # One untimed round: the first parses are slow (TensorFlow traces its graphs).
    timings: list[float] = []
    errors = empty = 0
    for r in range(args.rounds + 1):
        post(args.url, args.token, args.sender, "/restart")
        for message in SCRIPT:
            start = time.perf_counter()
            try:
                replies = post(args.url, args.token, args.sender, message)
            except (urllib.error.URLError, OSError, ValueError):
                errors += r > 0
                continue
            elapsed = (time.perf_counter() - start) * 1000
            if r == 0:
                continue
            timings.append(elapsed)
            empty += not replies
    if not timings:
        print("no message was answered", file=sys.stderr)
        return 1
    label = f"{args.label}: " if args.label else ""
    print(f"{label}{len(timings)} messages, p50 {percentile(timings, .5):.0f} ms, p95 {percentile(timings, .95):.0f} ms, "
          f"p99 {percentile(timings, .99):.0f} ms, mean {statistics.fmean(timings):.0f} ms; "
          f"{errors} errors, {empty} empty replies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
