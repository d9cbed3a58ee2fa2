"""Helpers for the action tests: the fixed clock, tracker building, running actions, reading domain.yml.

Plain functions (no pytest): `conftest.py` hands them out as fixtures, and test modules import
the constants they need at collection time from here.
"""
from __future__ import annotations

import asyncio
import inspect
import re
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from orderdesk.channels.common import stamp_identity

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_FILE = ROOT / "domain.yml"

# The fixed, timezone-aware "now" of every test (tests/support.py).
from support import NOW  # noqa: E402

SENDER = "demo"  # linked to customer `demo` on the rest channel (orderdesk.demo)
DEMO_EMAIL = "demo@example.com"
OTHERS_ORDER = "8200000000000001"  # customer `other`
UNKNOWN_ORDER = "8100000000009999"

# The keys CollectingDispatcher.utter_message always writes; anything else is a template variable.
MESSAGE_KEYS = frozenset({"text", "buttons", "elements", "custom", "template", "response", "image", "attachment"})

# Rasa's own placeholder pattern (rasa.core.nlg.interpolator): `{name}` with no braces or newline inside.
PLACEHOLDER = re.compile(r"{([^\n{}]+?)}")


def load_domain() -> dict[str, Any]:
    return yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))


def make_tracker(
    sender_id: str = SENDER,
    slots: Optional[dict[str, Any]] = None,
    intent: Optional[str] = "check_order_status",
    entities: Optional[dict[str, Any] | list[dict[str, Any]]] = None,
    text: str = "",
    channel: Optional[str] = "rest",
    active_loop: Optional[str] = None,
    history: Iterable[dict[str, Any]] = (),
    slot_events: Optional[dict[str, Any]] = None,
    session: float = NOW.timestamp(),
) -> Tracker:
    """A real `rasa_sdk.Tracker` as the action server receives it.

    `entities` may be {"order_number": "..."} or Rasa's list form. `history` are earlier events
    (before the latest user message); `slot_events` are SlotSet events after it (what a form's
    slot extraction appends before calling a validation action). `session` is when the conversation's
    current session started (Rasa's `session_started` event): another value is another session.
    """
    if isinstance(entities, dict):
        entities = [{"entity": k, "value": v} for k, v in entities.items()]
    latest = {
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": list(entities or []),
        "text": text,
        # The stamp our channel connectors put on every message they authenticated (None: no channel did).
        "metadata": stamp_identity({}, channel) if channel else {},
    }
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"},
                                    {"event": "session_started", "timestamp": session}]
    events += list(history)
    events.append({"event": "user", "text": text, "parse_data": latest, "input_channel": channel,
                   "metadata": latest["metadata"], "timestamp": NOW.timestamp()})
    all_slots = dict(slots or {})
    for name, value in (slot_events or {}).items():
        events.append({"event": "slot", "name": name, "value": value})
        all_slots[name] = value
    return Tracker(sender_id=sender_id, slots=all_slots, latest_message=latest, events=events, paused=False,
                   followup_action=None, active_loop={"name": active_loop} if active_loop else {},
                   latest_action_name="action_listen")


def user_event(text: str, channel: str = "rest") -> dict[str, Any]:
    return {"event": "user", "text": text, "input_channel": channel, "parse_data": {"text": text}}


def bot_event(text: str) -> dict[str, Any]:
    return {"event": "bot", "text": text}


class Result:
    """What an action did: the messages it sent and the events it returned."""

    def __init__(self, messages: list[dict[str, Any]], events: list[dict[str, Any]], tracker: Tracker):
        self.messages = messages
        self.events = events
        self.tracker = tracker

    @property
    def responses(self) -> list[Optional[str]]:
        return [m.get("response") for m in self.messages]

    def message(self, response: str) -> dict[str, Any]:
        found = [m for m in self.messages if m.get("response") == response]
        assert len(found) == 1, f"expected one {response}, got {self.responses}"
        return found[0]

    def kwargs(self, response: str) -> dict[str, Any]:
        """The template variables the action passed with `response` (utter_message's **kwargs)."""
        return {k: v for k, v in self.message(response).items() if k not in MESSAGE_KEYS}

    @property
    def slots(self) -> dict[str, Any]:
        """The slots the action set (last value wins)."""
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    def __repr__(self) -> str:
        return f"Result(responses={self.responses}, slots={self.slots})"


def run_action(action: Action, tracker: Tracker, domain: Optional[dict[str, Any]] = None) -> Result:
    dispatcher = CollectingDispatcher()
    out = action.run(dispatcher, tracker, domain if domain is not None else load_domain())
    if inspect.isawaitable(out):
        out = asyncio.run(out)
    return Result(dispatcher.messages, list(out or []), tracker)


def unfilled(text: str, values: dict[str, Any]) -> list[str]:
    """Placeholders in `text` that `values` can't fill (None counts as not filled)."""
    return [m for m in PLACEHOLDER.findall(text) if values.get(m) is None]


def response_texts(domain: dict[str, Any], name: str) -> list[str]:
    return [v["text"] for v in domain["responses"][name] if "text" in v]


def rendering_problems(result: Result, domain: dict[str, Any]) -> list[str]:
    """Messages Rasa could not render: a response missing from domain.yml, or a `{placeholder}`
    that neither the message's variables nor the tracker's slots (before the action) fill.

    Rasa fills response templates from the slots plus the variables passed to utter_message.
    """
    problems = []
    for m in result.messages:
        name = m.get("response")
        if name is None:
            continue
        if name not in domain["responses"]:
            problems.append(f"{name}: not in domain.yml")
            continue
        values = {**result.tracker.slots, **{k: v for k, v in m.items() if k not in MESSAGE_KEYS}}
        for text in response_texts(domain, name):
            for missing in unfilled(text, values):
                problems.append(f"{name}: {{{missing}}} unfilled")
    return problems


def customer_with_orders(cid: str, chat_id: Optional[str], *order_ids: str, now: datetime = NOW) -> dict[str, Any]:
    """An import payload: customer `cid` (linked to rest chat `chat_id`) with paid, unshipped orders."""
    from datetime import timedelta

    orders = [{
        "id": oid, "customer": cid, "seller": "s1", "item": f"Item {i}", "amount": "10.00", "currency": "USD",
        "payment_method": "card", "status": "awaiting_shipment",
        "placed_at": (now - timedelta(days=2, hours=i)).isoformat(), "paid_at": (now - timedelta(days=2)).isoformat(),
        "handling_days": 7, "delivery_days": 60,
    } for i, oid in enumerate(order_ids)]
    return {"customers": [{"id": cid, "email": f"{cid}@example.com", "name": cid,
                           "chat_ids": {"rest": chat_id} if chat_id else {}}],
            "orders": orders}
