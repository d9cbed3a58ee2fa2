"""Plays the conversation tests (tests/dialogues/*.yml) through the REST channel.

Each conversation starts from fresh demo data and a fresh conversation: the demo data is loaded
again (times relative to that moment) and the conversation gets a sender id of its own, linked to
customer `demo` for `sender: demo` and linked to nobody for `sender: stranger`.

    python tests/dialogues/runner.py tests/dialogues            # play them, print each miss
    python tests/dialogues/runner.py --share tests/dialogues/blind   # only the share fully right

The servers (an action server and a Rasa server on ports of their own, 19055 and 19005 unless
ORDERDESK_DIALOGUE_ACTIONS_PORT / ORDERDESK_DIALOGUE_RASA_PORT say otherwise) run on a SQLite file
in a temporary directory. When ORDERDESK_REST_TOKEN is set, every request sends it as a bearer
token; when it is not, the runner makes one up and gives it to the servers it starts.

The format is described in tests/dialogues/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional

import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHECKS = ("says", "says_any", "not_says", "matches", "buttons", "no_buttons", "has_date")
DATE_RE = re.compile(r"\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b")
SENDERS = ("demo", "stranger")
# Checked on every turn, whatever it expects: a `{name}` nothing filled (Rasa leaves it as written), or a
# date that did not apply ("by -": orderdesk.wording fills "-" where an order has no such date).
UNFILLED_RE = re.compile(r"{[^\n{}]+?}")
NO_DATE_RE = re.compile(r"\b(by|on|until|from|before|after) -(?=[\s.,;:)]|$)")


# --------------------------------------------------------------------------- the format

@dataclass
class Turn:
    user: Optional[str]
    click: Optional[str]
    expect: dict[str, Any]


@dataclass
class Conversation:
    name: str
    sender: str
    turns: list[Turn]
    source: str


def _said(value: Any) -> Optional[str]:
    """A turn's text. YAML reads an unquoted yes / no as a boolean: that is what the writer typed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def load(paths: list[Path]) -> list[Conversation]:
    """Every conversation in the given files or directories (a directory: its *.yml, not below it)."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.yml")) + sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    out: list[Conversation] = []
    for f in files:
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        for i, c in enumerate(doc.get("conversations") or []):
            where = f"{f.name} #{i + 1}"
            sender = c.get("sender", "demo")
            if sender not in SENDERS:
                raise ValueError(f"{where}: sender must be one of {SENDERS}, not {sender!r}")
            turns = []
            for j, t in enumerate(c.get("turns") or []):
                if ("user" in t) == ("click" in t):
                    raise ValueError(f"{where} turn {j + 1}: give exactly one of user / click")
                expect = t.get("expect") or {}
                unknown = set(expect) - set(CHECKS)
                if unknown:
                    raise ValueError(f"{where} turn {j + 1}: unknown checks {sorted(unknown)}")
                turns.append(Turn(_said(t.get("user")), _said(t.get("click")), expect))
            if not turns:
                raise ValueError(f"{where}: no turns")
            out.append(Conversation(str(c.get("name") or where), sender, turns, where))
    return out


# --------------------------------------------------------------------------- checking a turn

def bot_text(replies: list[dict]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def bot_buttons(replies: list[dict]) -> list[dict]:
    return [b for r in replies for b in (r.get("buttons") or [])]


def check_turn(expect: dict[str, Any], replies: list[dict]) -> list[str]:
    """The checks of one turn that do not hold (empty: the turn is right)."""
    text = bot_text(replies)
    low = text.lower()
    buttons = bot_buttons(replies)
    labels = [f"{b.get('title', '')} {b.get('payload', '')}".lower() for b in buttons]
    misses: list[str] = []
    if not replies:
        misses.append("the bot said nothing")
    shown = text + "\n" + "\n".join(str(b.get("title", "")) for b in buttons)
    for m in UNFILLED_RE.finditer(shown):
        misses.append(f"shows the placeholder {m.group(0)!r}")
    for m in NO_DATE_RE.finditer(shown):
        misses.append(f"shows a missing date {m.group(0)!r}")
    for s in expect.get("says") or []:
        if str(s).lower() not in low:
            misses.append(f"says {s!r}")
    any_of = expect.get("says_any") or []
    if any_of and not any(str(s).lower() in low for s in any_of):
        misses.append(f"says_any {any_of!r}")
    for s in expect.get("not_says") or []:
        if str(s).lower() in low:
            misses.append(f"not_says {s!r}")
    if expect.get("matches") and not re.search(expect["matches"], text, re.IGNORECASE):
        misses.append(f"matches {expect['matches']!r}")
    for s in expect.get("buttons") or []:
        if not any(str(s).lower() in label for label in labels):
            misses.append(f"buttons {s!r}")
    if expect.get("no_buttons") and buttons:
        misses.append("no_buttons")
    if expect.get("has_date") and not DATE_RE.search(text):
        misses.append("has_date")
    return misses


# --------------------------------------------------------------------------- the servers

def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def model_path() -> Optional[Path]:
    raw = os.environ.get("ORDERDESK_TEST_MODEL")
    if raw and Path(raw).exists():
        return Path(raw)
    from orderdesk.nlp.train import model_path as current

    return current() if current().exists() else None


class Servers:
    """An action server and a Rasa server (REST channel and the HTTP API, behind a token) on a
    SQLite store of their own. Use as a context manager; both stop on exit."""

    def __init__(self, model: Path, rasa_port: Optional[int] = None, actions_port: Optional[int] = None):
        self.model = model
        self.rasa_port = rasa_port or int(os.environ.get("ORDERDESK_DIALOGUE_RASA_PORT", "19005"))
        self.actions_port = actions_port or int(os.environ.get("ORDERDESK_DIALOGUE_ACTIONS_PORT", "19055"))
        self.rest_token = os.environ.get("ORDERDESK_REST_TOKEN") or secrets.token_urlsafe(24)
        self.api_token = secrets.token_urlsafe(24)
        self.procs: list[subprocess.Popen] = []
        self._services: Any = None  # the order store's services, for the demo-data resets
        self.logs: list[Any] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def __enter__(self) -> "Servers":
        for port in (self.rasa_port, self.actions_port):
            if not _free(port):
                raise RuntimeError(f"port {port} is taken; set ORDERDESK_DIALOGUE_RASA_PORT / "
                                   "ORDERDESK_DIALOGUE_ACTIONS_PORT")
        self.tmp = Path(tempfile.mkdtemp(prefix="orderdesk-dialogues-"))
        self.db_url = f"sqlite:///{self.tmp}/orders.db"
        env = {**os.environ, "ORDERDESK_DATABASE_URL": self.db_url, "ORDERDESK_REST_TOKEN": self.rest_token,
               "PYTHONPATH": str(ROOT)}
        from orderdesk.runtime import services

        services(self.db_url)  # migrate before the action server starts
        endpoints = self.tmp / "endpoints.yml"
        endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{self.actions_port}/webhook"\n'
                             '  enable_selective_domain: true\n')  # as endpoints.yml
        venv_bin = Path(sys.executable).parent
        self.logs = [open(self.tmp / "actions.log", "w"), open(self.tmp / "rasa.log", "w")]
        self.procs = [
            subprocess.Popen([str(venv_bin / "rasa"), "run", "actions", "--actions", "actions", "--port",
                              str(self.actions_port)], cwd=ROOT, env=env, stdout=self.logs[0],
                             stderr=subprocess.STDOUT),
            subprocess.Popen([str(venv_bin / "rasa"), "run", "--model", str(self.model), "--port",
                              str(self.rasa_port), "--credentials", "credentials.yml", "--endpoints",
                              str(endpoints), "--enable-api", f"--auth-token={self.api_token}"],
                             cwd=ROOT, env=env, stdout=self.logs[1], stderr=subprocess.STDOUT),
        ]
        try:
            deadline = time.monotonic() + 300
            while not (_up(f"{self.base}/") and _up(f"http://127.0.0.1:{self.actions_port}/health")):
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                    raise RuntimeError("the servers did not start:\n" + self.log_tail())
                time.sleep(1)
            self.say("warmup-" + secrets.token_hex(4), "hello")
        except BaseException:
            self.__exit__()
            raise
        return self

    def log_tail(self, n: int = 3000) -> str:
        return "\n".join((self.tmp / f).read_text()[-n:] for f in ("rasa.log", "actions.log")
                         if (self.tmp / f).exists())

    def __exit__(self, *exc: Any) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        for f in self.logs:
            f.close()
        self.procs = []

    # -- talking ---------------------------------------------------------------
    def say(self, sender: str, message: str) -> list[dict]:
        body = json.dumps({"sender": sender, "message": message}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.rest_token}"}
        req = urllib.request.Request(f"{self.base}/webhooks/rest/webhook", data=body, headers=headers)
        with urllib.request.urlopen(req, timeout=90) as r:
            return json.loads(r.read())

    def responses_used(self, sender: str) -> list[str]:
        """The names of the responses the bot sent in this conversation (from its tracker)."""
        q = urllib.parse.urlencode({"token": self.api_token})
        url = f"{self.base}/conversations/{urllib.parse.quote(sender)}/tracker?{q}"
        with urllib.request.urlopen(url, timeout=30) as r:
            tracker = json.loads(r.read())
        return [e["metadata"]["utter_action"] for e in tracker.get("events", [])
                if e.get("event") == "bot" and (e.get("metadata") or {}).get("utter_action")]

    # -- fresh data ------------------------------------------------------------
    def fresh_demo_data(self, linked_sender: Optional[str]) -> None:
        """Load the demo data again (times relative to now); link `linked_sender` to customer demo."""
        from orderdesk.demo import demo_payload
        from orderdesk.importer import import_payload
        from orderdesk.runtime import services, wipe

        if self._services is None:  # built once: the engine and the schema check need not be repeated
            self._services = services(self.db_url)
        svc = self._services
        payload = demo_payload(svc.clock())
        if linked_sender:
            payload["customers"][0]["chat_ids"] = {"rest": linked_sender}
        with svc.uow() as uow:
            wipe(uow.session.get_bind())
        with svc.uow() as uow:
            import_payload(payload, uow, svc.clock(), actor="demo")
            uow.commit()


# --------------------------------------------------------------------------- playing

@dataclass
class Result:
    conversation: Conversation
    misses: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)  # each turn's REST round trip

    @property
    def right(self) -> bool:
        return not self.misses


def play(servers: Servers, conv: Conversation) -> Result:
    sender = f"{conv.sender}-{secrets.token_hex(6)}"
    servers.fresh_demo_data(sender if conv.sender == "demo" else None)
    result = Result(conv)
    last_buttons: list[dict] = []
    for i, turn in enumerate(conv.turns, 1):
        if turn.click is not None:
            key = turn.click.lower()
            hit = next((b for b in last_buttons
                        if key in f"{b.get('title', '')} {b.get('payload', '')}".lower()), None)
            if hit is None:
                result.misses.append(f"turn {i}: no button {turn.click!r} to click")
                result.transcript.append(f"buyer: [{turn.click}]  <- no such button")
                break
            message, shown = hit["payload"], f"[{hit.get('title', '')}]"
        else:
            message, shown = turn.user or "", turn.user or ""
        try:
            started = time.perf_counter()
            replies = servers.say(sender, message)
            result.seconds.append(time.perf_counter() - started)
        except (urllib.error.URLError, OSError) as e:
            result.misses.append(f"turn {i}: the REST call failed ({e})")
            break
        result.transcript.append(f"buyer: {shown}")
        for r in replies:
            if r.get("text"):
                result.transcript.append("bot:   " + r["text"])
            if r.get("buttons"):
                result.transcript.append("       " + " ".join(f"[{b.get('title')}]" for b in r["buttons"]))
        result.misses += [f"turn {i} ({shown[:40]!r}): {m}" for m in check_turn(turn.expect, replies)]
        last_buttons = bot_buttons(replies)
    try:
        result.responses = servers.responses_used(sender)
    except (urllib.error.URLError, OSError):
        pass
    return result


def play_all(servers: Servers, conversations: list[Conversation]) -> Iterator[Result]:
    for conv in conversations:
        yield play(servers, conv)


def rules_reached(results: list[Result]) -> set[str]:
    from orderdesk.policy import RULES

    by_response = {"utter_rule_" + r.replace(".", "_"): r for rules in RULES.values() for r in rules}
    return {by_response[name] for res in results for name in res.responses if name in by_response}


def report(result: Result) -> str:
    lines = [f"MISS {result.conversation.name}  ({result.conversation.source})"]
    lines += ["    " + m for m in result.misses]
    lines += ["    | " + t for t in result.transcript]
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--share", action="store_true", help="print only the share fully right (a measurement)")
    ap.add_argument("--print", dest="show", action="store_true",
                    help="print every conversation as played, as Markdown (the README's demo conversations)")
    args = ap.parse_args(argv)
    conversations = load(args.paths)
    if not conversations:
        print("no conversations in " + ", ".join(map(str, args.paths)), file=sys.stderr)
        return 2
    model = model_path()
    if model is None:
        print("no trained model for the current data (python -m orderdesk.nlp.train)", file=sys.stderr)
        return 2
    with Servers(model) as servers:
        results = list(play_all(servers, conversations))
    right = sum(r.right for r in results)
    if args.show:
        for r in results:
            who = "the demo buyer" if r.conversation.sender == "demo" else "a stranger"
            print(f"**{r.conversation.name}** ({who})\n\n```")
            print("\n".join(r.transcript))
            print("```\n")
    if not args.share:
        for r in results:
            if not r.right:
                print(report(r) + "\n")
    print(f"conversations fully right: {right}/{len(results)} ({right / len(results):.0%}) "
          f"on {', '.join(map(str, args.paths))}")
    times = sorted(t for r in results for t in r.seconds)
    if times and not args.share:
        pick = lambda q: times[min(len(times) - 1, int(q * len(times)))] * 1000  # noqa: E731
        print(f"REST round trip per message: p50 {pick(0.5):.0f} ms, p95 {pick(0.95):.0f} ms ({len(times)} messages)")
    return 0 if args.share or right == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
