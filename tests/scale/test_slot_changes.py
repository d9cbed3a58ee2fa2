"""The action server leaves out the SlotSets that set a slot to the value it already has, and nothing else."""
from __future__ import annotations

import pytest

from orderdesk.servers.actions import changes_only

pytestmark = pytest.mark.unit


def slot(name, value, **extra):
    return {"event": "slot", "timestamp": None, "name": name, "value": value, **extra}


SLOTS = {"topic": "refund", "order_number": "8100000000000002", "offer": None, "refund_type": None,
         "paused": False, "count": 1}


def test_a_slot_set_to_its_own_value_is_left_out_and_a_change_is_kept():
    events = [slot("topic", "refund"), slot("order_number", "8100000000000003"), slot("offer", None),
              slot("refund_type", "full")]
    assert changes_only("action_answer_question", SLOTS, events) == [
        slot("order_number", "8100000000000003"), slot("refund_type", "full")]


def test_a_value_is_compared_with_what_the_earlier_events_of_the_answer_set():
    # cleared, then set back: both are changes; set twice to the same new value: the second is not
    events = [slot("topic", None), slot("topic", "refund"), slot("offer", "cancel"), slot("offer", "cancel")]
    assert changes_only("action_answer_question", SLOTS, events) == [
        slot("topic", None), slot("topic", "refund"), slot("offer", "cancel")]


def test_equal_values_of_another_type_are_a_change():
    events = [slot("paused", 0), slot("count", 1.0), slot("count", True)]
    assert changes_only("action_x", SLOTS, events) == events


def test_form_validation_answers_are_sent_whole():
    # Rasa's form reads a validation action's SlotSets as "validated": without one it rejects the turn
    events = [slot("refund_type", None), slot("topic", "refund")]
    assert changes_only("validate_dispute_form", SLOTS, events) == events
    assert changes_only("action_validate_slot_mappings", SLOTS, events) == events


def test_after_an_event_that_may_change_slots_everything_is_kept():
    # a new session resets the slots: the carried ones must be set again, even to the old values
    events = [slot("topic", "refund"), {"event": "session_started", "timestamp": None},
              slot("order_number", "8100000000000002"), {"event": "action", "name": "action_listen"}]
    assert changes_only("action_session_start", SLOTS, events) == events[1:]


def test_loop_and_followup_events_do_not_stop_the_filtering_and_are_kept():
    events = [slot("offer", None), {"event": "active_loop", "name": None}, slot("topic", "refund"),
              {"event": "followup", "name": "action_listen"}]
    assert changes_only("action_answer_question", SLOTS, events) == [events[1], events[3]]


def test_unknown_slots_timestamps_and_odd_answers_pass_unchanged():
    events = [slot("not_in_tracker", None), slot("topic", "refund", timestamp=1700000000.0), "junk"]
    assert changes_only("action_x", SLOTS, events) == events
    assert changes_only("action_x", None, [slot("topic", "refund")]) == [slot("topic", "refund")]
    assert changes_only("action_x", SLOTS, None) is None
