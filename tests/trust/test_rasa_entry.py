"""The Rasa entry point bounds the call to the action server and answers when it fails (down, hung,
refusing the secret), instead of leaving the buyer with nothing for up to 300 s."""
from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest

from orderdesk.servers import rasa as entry

ROOT = Path(__file__).resolve().parents[2]


def test_the_timeout_stays_below_the_lock_lifetime():
    assert entry.action_timeout("") == entry.DEFAULT_TIMEOUT
    assert entry.action_timeout("3") == 3.0
    assert entry.action_timeout("600") == entry.MAX_TIMEOUT < 60
    assert entry.action_timeout("-1") == 0.5
    assert entry.action_timeout("soon") == entry.DEFAULT_TIMEOUT


@pytest.fixture(scope="module")
def rasa_bits():
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load(str(ROOT / "domain.yml"))
    entry.install(timeout=1.0)
    return domain, TemplatedNaturalLanguageGenerator(domain.responses), DialogueStateTracker("t", domain.slots), \
        CollectingOutputChannel()


def run_remote(bits, url: str):
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    domain, nlg, tracker, channel = bits
    action = RemoteAction("action_answer_question", EndpointConfig(url))
    start = time.monotonic()
    events = asyncio.run(action.run(channel, nlg, tracker, domain))
    return events, time.monotonic() - start


def texts(events) -> list[str]:
    return [e.text for e in events if getattr(e, "text", None)]


def expected(bits) -> str:
    return bits[0].responses[entry.FALLBACK_RESPONSE][0]["text"]


def test_an_action_server_that_is_down_gets_the_fallback_answer_at_once(rasa_bits):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again before the call: nothing listens there
    events, took = run_remote(rasa_bits, f"http://127.0.0.1:{port}/webhook")
    assert texts(events) == [expected(rasa_bits)]
    assert took < 5


def test_an_action_server_that_hangs_gets_the_fallback_answer_within_the_timeout(rasa_bits):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]  # accepts connections, never answers
        events, took = run_remote(rasa_bits, f"http://127.0.0.1:{port}/webhook")
    assert texts(events) == [expected(rasa_bits)]
    assert took < 1.0 + 2  # the 1 s bound plus the wrapper's own second; far below the 60 s lock


def test_the_action_answer_check_accepts_what_rasa_accepts_and_refuses_what_it_refuses():
    """The validator built once gives Rasa's verdicts (orderdesk.servers.rasa replaces Rasa's per-call schema check)."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    from orderdesk.servers.rasa import _validate_action_result

    spec = RemoteAction.action_response_format_spec()
    good = {"events": [{"event": "slot", "name": "topic", "value": "x"}], "responses": [{"text": "hi"}]}
    bad = [{"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": "x"}]
    assert _validate_action_result(RemoteAction, good) is True
    jsonschema.validate(good, spec)
    for body in bad:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, spec)
        with pytest.raises(jsonschema.ValidationError):
            _validate_action_result(RemoteAction, body)


ACTION_ANSWERS = [  # what an action server sends back, well and badly formed
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "order_id", "value": "8123456789012345", "timestamp": None}]},
    {"events": [{"event": "active_loop", "name": "cancel_form"}, {"event": "active_loop", "name": None}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "rewind"}, {"event": "restart"}]},
    {"events": [{"event": "action_execution_rejected", "name": "validate_cancel_form"}]},
    {"events": [{"event": "reminder", "action": "x", "date_time": "2026-12-01T10:00:00", "name": "r"}]},
    {"events": [{"event": "bot", "text": "hi", "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]}}]},
    {"events": [{"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}}]},
    {"events": [{"event": "slot", "name": "n", "value": {"nested": [1, 2]}}], "responses": [{"text": "x"}]},
    {"events": "not a list"}, {"events": [{"no_event_key": 1}]}, {"responses": "x"}, {"events": [None]},
    {"events": [{"event": "slot"}]}, {"events": [{"event": "no_such_event"}]}, {"events": [{"event": 3}]},
    {"events": [{"event": "active_loop", "name": 5}]}, {"responses": [{"text": 1}]}, [], "text", None,
    {"events": [{"event": "slot", "name": "n"}]}, {"events": [{"event": "user", "parse_data": "x"}]},
    {"events": [{"event": "entities", "entities": [{"entity": "order_id"}]}]}, {"events": [{"event": "bot"}, 7]},
    {"events": [{"event": "slot", "name": "n", "value": 1, "timestamp": "yesterday"}]},
]


@pytest.mark.parametrize("answer", ACTION_ANSWERS, ids=range(len(ACTION_ANSWERS)))
def test_the_compiled_answer_check_gives_jsonschemas_verdict(answer):
    """The fast check that accepts an answer first agrees with jsonschema, well-formed answer or not."""
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    from orderdesk.servers.rasa import _compile_answer_check, _validate_action_result

    spec = RemoteAction.action_response_format_spec()
    fast_check = _compile_answer_check(spec)
    assert fast_check is not None  # Rasa 3.6's schema has the shape the fast check relies on
    fast = fast_check(answer)
    slow = jsonschema.validators.validator_for(spec)(spec).is_valid(answer)
    assert fast == slow
    if slow:
        assert _validate_action_result(RemoteAction, answer) is True
    else:
        with pytest.raises(jsonschema.ValidationError):
            _validate_action_result(RemoteAction, answer)
