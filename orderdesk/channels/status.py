"""Prints which channels are on with the current environment (`make run` shows it at start).

    python -m orderdesk.channels.status
"""
from __future__ import annotations

import os

from .rest import TOKEN_ENV
from .slack import ENV as SLACK_ENV
from .telegram import ENV as TELEGRAM_ENV
from .tokens import SECRET_ENV


def channel_lines(env: dict[str, str]) -> list[str]:
    def missing(names: list[str]) -> list[str]:
        return [n for n in names if not env.get(n)]

    rows = [
        ("rest", missing([TOKEN_ENV]), "bearer token"),
        ("socketio (web widget)", [], "signed customer tokens" if env.get(SECRET_ENV) else
         f"anonymous visitors only (no {SECRET_ENV})"),
        ("telegram", missing([TELEGRAM_ENV["token"], TELEGRAM_ENV["webhook_url"], TELEGRAM_ENV["secret"]]),
         "webhook " + env.get(TELEGRAM_ENV["webhook_url"], "")),
        ("slack", missing([SLACK_ENV["token"], SLACK_ENV["signing_secret"]]), "events and interactivity"),
    ]
    return [f"  {name:<22} {'on ' if not gone else 'off'}  {note if not gone else 'set ' + ', '.join(gone)}"
            for name, gone, note in rows]


def main() -> None:
    print("Channels:")
    print("\n".join(channel_lines(dict(os.environ))))


if __name__ == "__main__":
    main()
