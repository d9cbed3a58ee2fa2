"""The Rasa edge of the topic registry (`actions.topics`) against domain.yml and the rules.

Every intent of the domain is a question with a topic, a follow-up, or one of the intents listed
here that ask nothing about an order: a new question intent without a topic fails, and so does a
topic whose intent the domain lost. Every topic intent is answered by the answering action, outside
the forms and inside them.
"""
from __future__ import annotations

import re

import pytest
import yaml

from actions.actions import ActionAnswerQuestion
from orderdesk import wording
from actions.topics import ASKED, CLARIFY, FOLLOWUPS, TITLES, TOPIC_OF, general_response, in_slot, title, topic_of
from botkit import ROOT
from orderdesk.topics import TOPICS

# The intents that ask no question about an order (giving one, small talk, forms, a person, the gate).
NOT_QUESTIONS = {"provide_order_number", "provide_email", "inform", "human_handoff", "resume_bot", "stop", "greet",
                 "goodbye", "affirm", "deny", "thank", "bot_challenge", "out_of_scope", "complain", "other_language"}


def answered_by_rules() -> dict[object, set[str]]:
    """For each active loop (None: outside forms), the intents a rule answers with action_answer_question."""
    out: dict[object, set[str]] = {}
    for path in sorted((ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules", []):
            loop = next((c["active_loop"] for c in rule.get("condition") or [] if "active_loop" in c), None)
            steps = rule["steps"]
            for step, after in zip(steps, steps[1:]):
                if "intent" in step and after.get("action") == "action_answer_question":
                    out.setdefault(loop, set()).add(step["intent"])
    return out


# --------------------------------------------------------------------------- the domain's intents

def test_every_intent_of_the_domain_is_a_topic_a_follow_up_or_no_question(domain):
    intents = set(domain["intents"])
    unclassified = intents - set(TOPIC_OF) - set(FOLLOWUPS) - NOT_QUESTIONS
    assert unclassified == set(), "a question intent needs a topic (actions/topics.py ASKED)"


def test_every_topic_intent_and_follow_up_is_in_the_domain(domain):
    intents = set(domain["intents"])
    assert set(TOPIC_OF) - intents == set()
    assert set(FOLLOWUPS) - intents == set()
    assert NOT_QUESTIONS <= intents  # the list above names real intents, so it can't hide a question


def test_each_topic_has_one_intent_and_the_core_and_the_edge_name_the_same_topics():
    assert set(ASKED) == set(TOPICS)
    assert len(TOPIC_OF) == len(ASKED)  # no intent asks two topics
    assert not set(TOPIC_OF) & set(FOLLOWUPS) and not set(TOPIC_OF) & NOT_QUESTIONS


def test_no_topic_is_named_like_an_intent(domain):
    """The `topic` slot holds topics: a topic named like an intent would blur the two."""
    assert set(TOPICS) & set(domain["intents"]) == set()


def test_every_general_answer_is_a_response_of_the_domain(domain):
    assert {a.general for a in ASKED.values()} <= set(domain["responses"])


# --------------------------------------------------------------------------- the rules

def test_every_topic_intent_is_answered_outside_the_forms():
    assert set(TOPIC_OF) | set(FOLLOWUPS) <= answered_by_rules()[None]


@pytest.mark.parametrize("form, not_answered", [("dispute_form", set()), ("cancel_form", {"cancel"})])
def test_every_topic_intent_is_answered_inside_the_forms(form, not_answered):
    """Inside the cancel form, "cancel it" is the form's own business; every other question is answered."""
    missing = {topic_of(i) for i in set(TOPIC_OF) - answered_by_rules()[form]}
    assert missing == not_answered
    assert set(FOLLOWUPS) <= answered_by_rules()[form]


# --------------------------------------------------------------------------- titles

def test_every_topic_and_every_clarification_has_a_title():
    assert set(TITLES) == set(TOPICS) | {"when", "options", "person"}
    assert set(CLARIFY.values()) <= set(TITLES)
    assert {i for i in CLARIFY if i not in TOPIC_OF} <= set(FOLLOWUPS)


@pytest.mark.parametrize("key", sorted(TITLES))
def test_a_title_is_a_domain_response_naming_at_most_the_order_in_plain_words(key):
    texts = wording.load_texts()
    with_item, without = texts[f"utter_text_title_{key}_item"], texts[f"utter_text_title_{key}"]
    assert re.findall(r"{([^}]*)}", with_item) in ([], ["item"])
    assert "{" not in without and "_" not in with_item + without
    assert title(key, "Yoga mat") == with_item.replace("{item}", "Yoga mat")
    assert title(key) == without


def test_a_key_with_no_title_is_an_error_not_a_blank_button():
    with pytest.raises(KeyError):
        title("ask_refund")


def test_a_topics_title_with_and_without_an_order():
    assert title("refund_status", "Yoga mat") == "My refund for the Yoga mat"
    assert title("refund_status") == "Where my refund is"


# --------------------------------------------------------------------------- reading the slot

def test_the_topic_of_an_intent_and_of_the_slot():
    assert topic_of("ask_refund_status") == "refund_status"
    assert topic_of("ask_when") is None and topic_of(None) is None
    assert in_slot("refund_status") == "refund_status"
    assert in_slot("ask_refund_status") == "refund_status"  # a conversation saved before the registry
    assert in_slot(None) is None
    assert general_response(None) == general_response("status") == "utter_general_status"


def test_a_topic_slot_written_before_the_registry_is_answered_as_its_topic(run, tracker):
    """A conversation stored with an intent name in `topic` (older action server) goes on as that topic."""
    old = run(ActionAnswerQuestion(), tracker(intent="provide_order_number", slots={"topic": "cancel_order"},
                                              entities={"order_number": "8100000000000003"}))
    new = run(ActionAnswerQuestion(), tracker(intent="provide_order_number", slots={"topic": "cancel"},
                                              entities={"order_number": "8100000000000003"}))

    assert old.responses == new.responses == ["utter_order_in_play", "utter_rule_cancel_request_seller",
                                              "utter_offer_cancel"]
    assert old.slots["topic"] == new.slots["topic"] == "cancel"
