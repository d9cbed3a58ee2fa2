"""The topic registry (`orderdesk.topics`): one entry per question a buyer asks, keyed by topic.

What each entry says is checked against the policy it feeds: the answers it needs exist, a
follow-up about it turns on one of them, what it offers can be filed, the dispute reason it names
is one the form knows. Which orders each topic is about is tests/policy/test_candidates.py.
"""
from __future__ import annotations

import inspect

import pytest

from orderdesk import candidates
from orderdesk.model import DISPUTE_REASONS
from orderdesk.policy import QUESTIONS
from orderdesk.topics import ANSWERS, DEFAULT, OFFERS, REGISTRY, TOPICS, topic

EVERY = sorted(TOPICS)


def test_each_topic_has_one_entry_under_its_own_key():
    assert len(REGISTRY) == len(TOPICS) == 17
    assert all(TOPICS[t.key] is t for t in REGISTRY)


def test_the_answers_a_topic_may_need_are_the_policys_four_then_the_destination_and_the_status():
    assert ANSWERS[:4] == QUESTIONS
    assert ANSWERS[4:] == ("destination", "status")


@pytest.mark.parametrize("key", EVERY)
def test_a_topic_needs_answers_the_policy_gives(key):
    t = TOPICS[key]
    assert t.answers and set(t.answers) <= set(ANSWERS)
    assert len(set(t.answers)) == len(t.answers)
    # the status stands alone: it is the answer to "where is my order", not part of another
    assert "status" not in t.answers or t.answers == ("status",)


@pytest.mark.parametrize("key", EVERY)
def test_a_follow_up_turns_on_the_last_answer_the_topic_gives(key):
    """"When?" after a question is about its last answer; where a refund goes is about the refund."""
    t = TOPICS[key]
    assert t.about == {"destination": "refund"}.get(t.answers[-1], t.answers[-1])
    assert t.about in QUESTIONS or t.about == "status"


@pytest.mark.parametrize("key", EVERY)
def test_what_a_topic_offers_is_something_that_can_be_filed(key):
    t = TOPICS[key]
    assert t.offer is None or t.offer in OFFERS
    if t.cancel_first:  # only a refund question can be answered "cancel first"
        assert t.answers == ("refund",)
    if t.dispute_reason is not None:  # a reason is only worth keeping for a dispute it offers
        assert t.dispute_reason in DISPUTE_REASONS
        assert t.offer == "dispute"


@pytest.mark.parametrize("key", EVERY)
def test_a_topics_tiers_are_the_order_pickers_checks(key):
    t = TOPICS[key]
    for check in t.tiers:
        assert inspect.getmodule(check) is candidates
        assert list(inspect.signature(check).parameters) == ["o", "now", "cfg"]
    assert len(set(t.tiers)) == len(t.tiers)
    if t.strong:  # the order's state is the evidence: there must be a state to look for
        assert t.tiers


def test_the_strong_topics_are_the_ones_an_orders_state_proves():
    assert {k for k, t in TOPICS.items() if t.strong} == {
        "cancellation_rejected", "cancellation_status", "seller_cancelled", "escalation", "confirmed_by_mistake"}


def test_what_each_topic_offers_to_file():
    offers = {k: (t.offer, t.cancel_first) for k, t in TOPICS.items() if t.offer or t.cancel_first}
    assert offers == {
        "cancel": ("cancel", False), "no_cancel_button": ("cancel", False),
        "cancel_after_shipment": ("cancel", False), "cancellation_status": ("cancel", False),
        "unpaid_order": ("cancel", False),
        "refund": ("dispute", True), "refund_status": (None, True),
        "cancellation_rejected": ("dispute", False), "not_received": ("dispute", False),
        "not_as_described": ("dispute", False), "dispute": ("dispute", False), "return": ("dispute", False),
        "escalation": ("escalate", False),
    }
    assert {k for k, t in TOPICS.items() if t.confirmed_by_mistake} == {"not_received", "confirmed_by_mistake"}
    assert {k: t.dispute_reason for k, t in TOPICS.items() if t.dispute_reason} == {
        "not_received": "not_received", "not_as_described": "not_as_described"}


@pytest.mark.parametrize("key", [None, "", "no such topic"])
def test_no_topic_or_an_unknown_one_is_the_status(key):
    assert topic(key) is DEFAULT is TOPICS["status"]


def test_the_status_is_about_every_order_and_offers_nothing():
    s = TOPICS["status"]
    assert (s.answers, s.about, s.tiers, s.strong, s.offer, s.cancel_first, s.dispute_reason) == (
        ("status",), "status", (), False, None, False, None)
