"""The form validation actions, run the way Rasa calls them: the form appends the extracted slot
values after the latest user message, and the validation action returns SlotSet events.
"""
from __future__ import annotations

import asyncio

import pytest

from actions.forms import ValidateCancelForm, ValidateDisputeForm
from orderdesk.model import CANCELLATION_REASONS, MAX_DESCRIPTION
from orderdesk.wording import cancel_reason_label, dispute_reason_label


def validate_cancel(run, tracker, typed, slots=None):
    trk = tracker(intent="inform", text=str(typed), active_loop="cancel_form",
                  slots={"requested_slot": "cancel_reason", "order_number": "8100000000000003", **(slots or {})},
                  slot_events={"cancel_reason": typed})
    return run(ValidateCancelForm(), trk)


DISPUTE_SLOTS = {"order_number": "8100000000000005", "order_amount": "19.50 USD", "order_item": "Bluetooth speaker"}


def validate_dispute(run, tracker, slot, typed, slots=None):
    trk = tracker(intent="inform", text=str(typed), active_loop="dispute_form",
                  slots={"requested_slot": slot, **DISPUTE_SLOTS, **(slots or {})}, slot_events={slot: typed})
    return run(ValidateDisputeForm(), trk)


# --------------------------------------------------------------------------- cancel_form

@pytest.mark.parametrize("typed, code", [
    ("I ordered the wrong size", "wrong_product"),
    ("wrong colour, my mistake", "wrong_product"),
    ("I bought it twice", "duplicate_order"),
    ("it's a duplicate", "duplicate_order"),
    ("the seller doesn't reply to my messages", "no_contact"),
    ("they told me it is out of stock", "out_of_stock"),
    ("seller refuses to send it", "seller_refuses"),
    ("qwpoeiru zxmn", "other"),
    ("", "other"),
])
def test_a_typed_cancellation_reason_is_mapped_to_a_reason_code_with_its_label(run, tracker, typed, code):
    r = validate_cancel(run, tracker, typed)

    assert r.slots == {"cancel_reason": code, "cancel_reason_label": cancel_reason_label(code)}
    assert r.responses == []


@pytest.mark.parametrize("code", list(CANCELLATION_REASONS))
def test_a_reason_button_keeps_its_code(run, tracker, code):
    r = validate_cancel(run, tracker, code)

    assert r.slots == {"cancel_reason": code, "cancel_reason_label": cancel_reason_label(code)}


# --------------------------------------------------------------------------- dispute_form: reason and description

@pytest.mark.parametrize("typed, code", [
    ("it's a fake", "counterfeit"),
    ("arrived broken", "damaged"),
    ("tracking shows it went to another city", "wrong_destination"),
    ("the tracking hasn't moved in weeks", "tracking_stalled"),
    ("it never arrived", "not_received"),
    ("blah", "not_as_described"),
])
def test_a_typed_dispute_reason_is_mapped_to_a_reason_code_with_its_label(run, tracker, typed, code):
    r = validate_dispute(run, tracker, "dispute_reason", typed)

    assert r.slots["dispute_reason"] == code
    assert r.slots["dispute_reason_label"] == dispute_reason_label(code)


def test_a_long_typed_dispute_reason_doubles_as_the_description(run, tracker):
    typed = "The screen arrived cracked and it does not turn on"
    r = validate_dispute(run, tracker, "dispute_reason", typed)

    assert r.slots["dispute_reason"] == "damaged"
    assert r.slots["dispute_description"] == typed


def test_a_10000_character_description_is_refused_with_its_length_not_cut(run, tracker):
    typed = ("The colour is wrong and the size too. " * 300)[:10_000]
    r = validate_dispute(run, tracker, "dispute_description", typed)

    assert r.responses == ["utter_description_too_long"]
    assert r.kwargs("utter_description_too_long") == {"length": "10,000", "limit": "2,000"}
    assert r.slots == {"dispute_description": None}


def test_a_description_of_exactly_the_limit_is_kept_whole(run, tracker):
    typed = ("Wrong colour. " * 200)[:MAX_DESCRIPTION - 1] + "!"
    r = validate_dispute(run, tracker, "dispute_description", typed)

    assert r.slots["dispute_description"] == typed and len(typed) == MAX_DESCRIPTION
    assert r.responses == []


def test_a_typed_reason_too_long_to_be_the_description_sets_only_the_reason(run, tracker):
    typed = "It arrived broken. " * 200
    r = validate_dispute(run, tracker, "dispute_reason", typed)

    assert r.slots["dispute_reason"] == "damaged"
    assert "dispute_description" not in r.slots


def test_whitespace_in_a_description_is_collapsed(run, tracker):
    r = validate_dispute(run, tracker, "dispute_description", "  not   as\n\ndescribed  at all ")

    assert r.slots["dispute_description"] == "not as described at all"


@pytest.mark.parametrize("typed", ["ok", "   ", "a  b"])
def test_a_description_of_a_word_or_two_letters_is_refused(run, tracker, typed):
    r = validate_dispute(run, tracker, "dispute_description", typed)

    assert r.responses == ["utter_description_too_short"]
    assert r.slots == {"dispute_description": None}


# --------------------------------------------------------------------------- dispute_form: refund type and amount

@pytest.mark.parametrize("typed", ["full", "Full refund please", "all of it", "the whole amount", "everything back"])
def test_a_full_refund_takes_the_order_amount(run, tracker, typed):
    r = validate_dispute(run, tracker, "refund_type", typed)

    assert r.slots["refund_type"] == "full"
    assert r.slots["refund_amount"] == "19.50 USD"


@pytest.mark.parametrize("typed", ["partial", "Partial refund", "I'll keep it and get some money back"])
def test_a_partial_refund_is_recognised(run, tracker, typed):
    r = validate_dispute(run, tracker, "refund_type", typed)

    assert r.slots["refund_type"] == "partial"
    assert "refund_amount" not in r.slots


@pytest.mark.parametrize("typed", ["a small amount back", "it's awesome", "no idea"])
def test_words_that_merely_contain_all_or_some_are_not_read_as_a_refund_type(run, tracker, typed):
    r = validate_dispute(run, tracker, "refund_type", typed)

    assert r.responses == ["utter_invalid_refund_type"]
    assert r.slots["refund_type"] is None


def test_a_question_where_the_refund_type_is_asked_is_answered_and_the_question_asked_again(run, tracker):
    r = validate_dispute(run, tracker, "refund_type", "how much can i ask for?")

    assert r.responses == ["utter_dispute_refund_amount"]
    assert r.slots["refund_type"] is None


def test_a_full_refund_drops_the_amount_from_the_required_slots(tracker, domain):
    form = ValidateDisputeForm()
    domain_slots = form.domain_slots(domain)
    assert "refund_amount" in domain_slots

    full = tracker(active_loop="dispute_form", slots={"refund_type": "full"})
    partial = tracker(active_loop="dispute_form", slots={"refund_type": "partial"})
    required_full = asyncio.run(form.required_slots(domain_slots, None, full, domain))
    required_partial = asyncio.run(form.required_slots(domain_slots, None, partial, domain))

    assert "refund_amount" not in required_full
    assert required_full == [s for s in domain_slots if s != "refund_amount"]
    assert required_partial == domain_slots


def test_after_choosing_a_full_refund_the_form_asks_for_confirmation_next(run, tracker):
    filled = {"dispute_reason": "damaged", "dispute_description": "Arrived broken."}
    r = validate_dispute(run, tracker, "refund_type", "full", slots=filled)

    assert r.slots["requested_slot"] == "dispute_confirm"


@pytest.mark.parametrize("typed, kept", [("7,50", "7.50"), ("15 euros", "15.00"), ("7.5", "7.50"), ("$10", "10.00"), ("19.50 USD", "19.50"),
                                         ("0.01", "0.01")])
def test_a_partial_refund_amount_is_read_in_the_common_ways(run, tracker, typed, kept):
    r = validate_dispute(run, tracker, "refund_amount", typed, slots={"refund_type": "partial"})

    assert r.slots["refund_amount"] == kept
    assert r.responses == []


@pytest.mark.parametrize("typed", ["25", "19.51", "0", "0.00", "abc", "", "-5", "1e3", "5 or 6", "five"])
def test_a_refund_amount_that_is_not_above_zero_and_at_most_the_order_amount_is_refused(run, tracker, typed):
    r = validate_dispute(run, tracker, "refund_amount", typed, slots={"refund_type": "partial"})

    assert r.responses == ["utter_invalid_refund_amount"]
    assert r.kwargs("utter_invalid_refund_amount") == {"order_amount": "19.50 USD"}
    assert r.slots["refund_amount"] is None


# --------------------------------------------------------------------------- not an answer (issue 8, point 4)

@pytest.mark.parametrize("typed", ["actually no ill keep it", "nvm", "hold off, I'll keep the lamp"])
def test_calling_the_cancellation_off_at_the_reason_ends_the_form_without_a_reason(run, tracker, typed):
    r = validate_cancel(run, tracker, typed)

    assert r.slots["cancel_reason"] is None
    assert r.slots["requested_slot"] is None  # the form ends; its submit action files nothing


def test_i_changed_my_mind_at_the_reason_question_is_a_reason_not_a_call_off(run, tracker):
    r = validate_cancel(run, tracker, "I changed my mind")

    assert r.slots["cancel_reason"] == "other"
    assert "requested_slot" not in r.slots


@pytest.mark.parametrize("typed", ["wait will i get the whole 58 back?", "do i get all my money back",
                                   "how much will the refund be?"])
def test_a_money_question_at_the_dispute_reason_is_answered_and_never_stored(run, tracker, typed):
    r = validate_dispute(run, tracker, "dispute_reason", typed)

    assert r.slots["dispute_reason"] is None and "dispute_description" not in r.slots
    assert r.responses == ["utter_dispute_refund_amount"]
    assert r.kwargs("utter_dispute_refund_amount") == {"order_amount": "19.50 USD"}


@pytest.mark.parametrize("slot", ["dispute_reason", "dispute_description"])
def test_another_question_in_the_dispute_form_is_acknowledged_and_never_stored(run, tracker, slot):
    r = validate_dispute(run, tracker, slot, "what happens with the photos?")

    assert r.slots[slot] is None
    assert r.responses == ["utter_form_question_noted"]


def test_a_question_at_the_cancel_reason_is_not_stored_as_reason_other(run, tracker):
    r = validate_cancel(run, tracker, "why do you need to know that?")

    assert r.slots["cancel_reason"] is None
    assert r.responses == ["utter_form_question_noted"]


def test_a_long_description_that_asks_something_on_the_way_is_kept(run, tracker):
    typed = "Why would they send this? The speaker is cracked on the side and makes no sound at all."
    r = validate_dispute(run, tracker, "dispute_description", typed)

    assert r.slots["dispute_description"] == typed


@pytest.mark.parametrize("typed", ["ok do it", "si, yes file it", "yes pls", "ok go ahead"])
def test_a_typed_go_ahead_at_the_reason_question_asks_for_the_reason_again_and_files_nothing(run, tracker, typed):
    cancel = validate_cancel(run, tracker, typed)
    dispute = validate_dispute(run, tracker, "dispute_reason", typed)

    assert cancel.slots == {"cancel_reason": None}
    assert dispute.slots == {"dispute_reason": None}


def test_a_go_ahead_that_gives_a_reason_keeps_the_reason(run, tracker):
    r = validate_cancel(run, tracker, "yes, i ordered it twice")

    assert r.slots["cancel_reason"] == "duplicate_order"
