"""domain.yml against the code: every response the actions can send exists, and every response
renders with the variables the actions pass (no `{placeholder}` left for the buyer to see).
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import actions
from actions.actions import ActionAnswerQuestion
from actions.answers import VARIABLES, plan_answer, response_for_rule, template_vars
from actions.topics import ASKED, TOPIC_OF
from botkit import OTHERS_ORDER, PLACEHOLDER, response_texts, unfilled
from orderdesk.demo import SITUATIONS
from orderdesk.model import ClosedReason, PaymentMethod, Status
from orderdesk.policy import RULES
from orderdesk.wording import (cancel_reason_label, destination_phrase, destination_response, dispute_reason_label,
                               status_phrase)
from orderdesk.services import OPERATOR
from orderdesk.topics import TOPICS

DEMO_ORDERS = [oid for oid, _ in SITUATIONS] + [OTHERS_ORDER]
ACTIONS_DIR = Path(actions.__file__).resolve().parent

# What the actions pass besides template_vars(decision), and the slots responses read.
EXTRAS = {
    "reference": "CXL-8100000000000003", "request_state": "pending", "handoff_reference": "HND-20261122-ABC123",
    "order_amount": "19.50 USD", "order_item": "Bluetooth speaker",
    "cancel_reason_label": cancel_reason_label("wrong_product"),
    "dispute_reason_label": dispute_reason_label("damaged"), "refund_type": "partial", "refund_amount": "7.50",
    "length": "10,000", "limit": "2,000", "locked_until": "Sun 22 Nov, 13:00 UTC",
}


class Strict(dict):
    def __missing__(self, key):
        raise KeyError(f"unfilled placeholder {{{key}}}")


def all_rule_ids() -> list[str]:
    return [rule for rules in RULES.values() for rule in rules]


# Rasa's key, in a bot message's metadata, for the response the message came from: a name, not a response.
NOT_RESPONSES = {"utter_action"}


def literal_response_names() -> set[str]:
    """Every complete `utter_...` string literal in actions/*.py (f-string and prefix pieces excluded)."""
    names: set[str] = set()
    for path in ACTIONS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstrings = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in node.values}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
                    and re.fullmatch(r"utter_[a-z0-9_]*[a-z0-9]", node.value)):
                names.add(node.value)
    return names - NOT_RESPONSES


def offer_values(domain) -> list[str]:
    return domain["slots"]["offer"]["values"]


def emittable_responses(domain) -> set[str]:
    names = set(literal_response_names())
    names |= {response_for_rule(rule) for rule in all_rule_ids()}
    names |= {f"utter_closed_{r.value}" for r in ClosedReason}
    names |= {f"utter_status_{s.value}" for s in Status}
    names |= {destination_response(m) for m in [*PaymentMethod, None]}
    names |= {destination_phrase(m) for m in [*PaymentMethod, None]} | {status_phrase(s) for s in Status}
    names.add("utter_unshipped_cancel_rejected")
    names |= {asked.general for asked in ASKED.values()}
    names |= {f"utter_offer_{v}" for v in offer_values(domain)}
    return names


@pytest.fixture
def decisions(svc):
    """The policy's decision for every demo order at NOW, read from the test store."""
    return {oid: svc.explain(oid, record=False, customer_id=OPERATOR) for oid in DEMO_ORDERS}


# --------------------------------------------------------------------------- names

def test_the_scan_of_the_actions_finds_the_responses_they_name():
    found = literal_response_names()
    assert {"utter_store_unavailable", "utter_choose_order", "utter_cancellation_filed",
            "utter_invalid_refund_amount", "utter_handoff"} <= found
    assert "utter_offer_" not in found and "utter_rule_" not in found


@pytest.mark.parametrize("rule", all_rule_ids())
def test_every_policy_rule_has_its_answer_in_the_domain(domain, rule):
    assert f"utter_rule_{rule.replace('.', '_')}" in domain["responses"]


def test_every_rule_answer_in_the_domain_belongs_to_a_policy_rule(domain):
    expected = {response_for_rule(rule) for rule in all_rule_ids()}
    in_domain = {name for name in domain["responses"] if name.startswith("utter_rule_")}
    assert in_domain - expected == set()


def test_every_response_the_actions_can_send_is_in_the_domain(domain):
    missing = sorted(emittable_responses(domain) - set(domain["responses"]))
    assert missing == []


def test_the_offer_slot_allows_every_offer_the_answers_make(domain, decisions):
    made = {plan_answer(topic, d)[1] for d in decisions.values() for topic in TOPICS} - {None}

    assert made == {"cancel", "dispute", "escalate"}  # the demo orders provoke each of them
    assert made <= set(offer_values(domain))


def test_every_topic_has_a_general_answer_and_is_asked_by_an_intent(domain):
    assert set(ASKED) == set(TOPICS)
    assert set(TOPIC_OF) <= set(domain["intents"])


def test_every_action_and_form_slot_is_declared(domain):
    from actions import actions as module
    from actions import forms
    from rasa_sdk import Action

    declared = set(domain["actions"])
    for mod in (module, forms):
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, Action) and obj.__module__ == mod.__name__:
                assert obj().name() in declared
    for form, spec in domain["forms"].items():
        for slot in spec["required_slots"]:
            assert slot in domain["slots"], (form, slot)
            assert (f"utter_ask_{slot}" in domain["responses"]
                    or f"action_ask_{slot}" in domain["actions"]), (form, slot)


def test_button_payloads_in_the_domain_fit_telegrams_64_bytes(domain):
    for name, variants in domain["responses"].items():
        for v in variants:
            for b in v.get("buttons", []):
                assert len(b["payload"].encode("utf-8")) <= 64, (name, b["payload"])


# --------------------------------------------------------------------------- rendering

def test_template_vars_fills_every_variable_it_promises(decisions):
    for oid, decision in decisions.items():
        values = template_vars(decision)
        assert set(VARIABLES) <= set(values), oid
        assert all(v is not None for v in values.values()), oid


@pytest.mark.parametrize("oid", DEMO_ORDERS)
def test_every_response_renders_for_every_demo_order(domain, decisions, oid):
    values = Strict({**template_vars(decisions[oid]), **EXTRAS})
    problems = []
    for name in domain["responses"]:
        for text in response_texts(domain, name):
            problems += [f"{name}: {{{p}}}" for p in unfilled(text, values)]
            try:
                text.format_map(values)
            except (KeyError, ValueError, IndexError) as e:
                problems.append(f"{name}: {e}")
    assert problems == []


@pytest.mark.parametrize("oid", DEMO_ORDERS)
def test_every_answer_about_a_demo_order_has_all_its_dates(domain, decisions, oid):
    """The responses picked for each question fill their dates from the order, never with "-"."""
    decision = decisions[oid]
    values = template_vars(decision)
    gaps = []
    for topic in TOPICS:
        responses, offer, _ = plan_answer(topic, decision)
        for name in ["utter_order_in_play", *responses, *([f"utter_offer_{offer}"] if offer else [])]:
            assert name in domain["responses"], (topic, name)
            for text in response_texts(domain, name):
                gaps += [f"{topic} -> {name}: {{{p}}}" for p in PLACEHOLDER.findall(text) if values.get(p) == "-"]
    assert gaps == []


def test_the_answer_action_never_sends_a_response_it_cannot_fill(run, tracker):
    # `run` checks every message against domain.yml; this walks every demo order and topic through it.
    for oid in DEMO_ORDERS[:-1]:
        for intent in TOPIC_OF:
            r = run(ActionAnswerQuestion(), tracker(intent=intent, entities={"order_number": oid}))
            assert r.responses[0] == "utter_order_in_play", (oid, intent, r.responses)
