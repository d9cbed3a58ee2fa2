"""Issue 8's dialogue behaviour at the action level: follow-ups, orders named by item or by a number
written the way buyers write it, no context bleed, unpaid cancellation at once, the handoff relay,
anger, clarification in plain words, another language, and a new session without half-done forms.

Real `rasa_sdk.Tracker` and `CollectingDispatcher` against the demo data on a fixed clock; the
conversation tests (tests/dialogues) play the same through the running servers.
"""
from __future__ import annotations

import re

import pytest

from actions.actions import (ActionAnswerInform, ActionAnswerQuestion, ActionAskAffirmation, ActionAskHandoffNote,
                             ActionDefaultFallback, ActionHumanHandoff,
                             ActionOtherLanguage, ActionResumeBot, ActionSessionStart, ActionSubmitCancellation)
from actions.topics import TITLES, title
from actions.forms import ValidateCancelForm, ValidateDisputeForm, ValidateHandoffForm
from botkit import DEMO_EMAIL
from orderdesk import db
from orderdesk.candidates import items_named
from orderdesk.nlp.gate import verdict

YOGA_MAT = "8100000000000012"  # closed yesterday, not shipped in time: refund in 2-5 days to PayPal
KEYBOARD = "8100000000000007"  # the seller cancelled it
LAMP = "8100000000000003"  # awaiting shipment
EARBUDS = "8100000000000001"  # unpaid
KITCHEN_SCALE = "8100000000000014"  # delivered 3 days ago, not confirmed
SCARF = "8100000000000008"  # receipt confirmed 3 days ago
WALLET = "8100000000000010"  # dispute open
DRONE = "8100000000000011"  # dispute escalated to the platform
IN_PLAY = {"customer_id": "demo"}


def answer(run, tracker, **kw):
    return run(ActionAnswerQuestion(), tracker(**kw))


# --------------------------------------------------------------------------- follow-ups

def test_when_will_i_get_it_after_a_refund_answer_gives_the_refund_date_for_that_order(run, tracker):
    r = answer(run, tracker, intent="ask_when", text="when will I get it?",
               slots={**IN_PLAY, "order_number": YOGA_MAT, "topic": "refund_status"})

    assert r.responses == ["utter_rule_refund_in_progress"]
    assert r.kwargs("utter_rule_refund_in_progress")["refund_expected_by"] != "-"
    assert r.slots["order_number"] == YOGA_MAT and r.slots["topic"] == "refund_status"


def test_why_after_the_no_cancel_button_answer_gives_the_reason_for_that_order(run, tracker):
    strap = "8100000000000002"  # payment being checked
    r = answer(run, tracker, intent="ask_why", text="y tho",
               slots={**IN_PLAY, "order_number": strap, "topic": "no_cancel_button"})

    assert r.responses == ["utter_rule_cancel_payment_check"]
    assert r.slots["order_number"] == strap


def test_why_was_it_closed_after_a_refund_answer_gives_why_that_order_closed(run, tracker):
    r = answer(run, tracker, intent="ask_why", text="fine. and why did it get closed anyway",
               slots={**IN_PLAY, "order_number": YOGA_MAT, "topic": "refund_status"})

    assert r.responses == ["utter_closed_not_shipped_in_time"]
    assert r.slots["order_number"] == YOGA_MAT


def test_do_i_need_to_do_anything_with_a_refund_on_its_way_says_it_is_automatic(run, tracker):
    r = answer(run, tracker, intent="ask_options", text="do i need to do anything",
               slots={**IN_PLAY, "order_number": YOGA_MAT, "topic": "refund_status"})

    assert r.responses == ["utter_rule_refund_in_progress", "utter_followup_refund_automatic"]


def test_a_refund_question_inside_the_dispute_form_also_says_how_much_the_dispute_asks_for(run, tracker):
    jacket = "8100000000000006"
    r = answer(run, tracker, intent="ask_refund", text="wait will i get the whole 58 back?", active_loop="dispute_form",
               slots={**IN_PLAY, "order_number": jacket, "topic": "cancellation_rejected",
                      "order_amount": "58.00 USD", "requested_slot": "dispute_reason"})

    assert r.responses[-1] == "utter_dispute_refund_amount"
    assert r.kwargs("utter_dispute_refund_amount") == {"order_amount": "58.00 USD"}
    assert "order_number" not in r.slots  # the form's order stays


def test_a_follow_up_keeps_what_was_offered(run, tracker):
    r = answer(run, tracker, intent="ask_if_seller_refuses", text="and if the seller refuses?",
               slots={**IN_PLAY, "order_number": LAMP, "topic": "cancel", "offer": "cancel"})

    assert r.responses == ["utter_followup_refuses_cancel"]
    assert "offer" not in r.slots  # still "cancel": a yes now files it


@pytest.mark.parametrize("sender", ["demo", "stranger-7"])
def test_a_follow_up_with_no_order_in_play_asks_which_order_and_never_guesses(run, tracker, sender):
    r = answer(run, tracker, sender_id=sender, intent="ask_when", text="when will I get it?")

    assert r.responses in (["utter_which_order_followup"], ["utter_ask_order_number"])
    assert "order_number" not in r.slots
    assert r.slots["followup"] == "ask_when"


def test_the_follow_up_is_answered_once_the_order_is_picked(run, tracker):
    r = answer(run, tracker, intent="provide_order_number", entities={"order_number": YOGA_MAT},
               slots={**IN_PLAY, "followup": "ask_when", "topic": "refund_status"})

    assert r.responses == ["utter_order_in_play", "utter_rule_refund_in_progress"]
    assert r.slots["followup"] is None


def test_what_does_escalating_do_explains_and_offers_to_escalate_an_open_dispute(run, tracker):
    r = answer(run, tracker, intent="ask_escalation", text="what does escalating do?",
               slots={**IN_PLAY, "order_number": WALLET, "topic": "escalation"})

    assert r.responses == ["utter_rule_dispute_open", "utter_escalation_explained", "utter_offer_escalate"]
    assert r.slots["offer"] == "escalate"


# --------------------------------------------------------------------------- kept details

@pytest.mark.parametrize("text", ["refund for order no. 8100 0000 0000 0012", "#8100-0000-0000-0012 refund?",
                                  "order 8100.0000.0000.0012"])
def test_order_numbers_written_with_spaces_dashes_or_dots_are_understood(run, tracker, text):
    r = answer(run, tracker, intent="ask_refund_status", text=text)

    assert r.slots["order_number"] == YOGA_MAT


def test_a_tracking_number_is_not_read_as_an_order_number(run, tracker):
    r = answer(run, tracker, intent="check_order_status", text="tracking LP00123456789012 shows nothing")

    assert "order_number" not in r.slots


def test_an_order_number_and_email_in_one_message_verify_in_one_step(run, tracker):
    r = answer(run, tracker, sender_id="stranger-9", intent="ask_refund_status",
               text=f"where is my refund for {KEYBOARD}, my email is {DEMO_EMAIL}")

    assert "utter_ask_email" not in r.responses
    assert r.responses[:2] == ["utter_order_in_play", "utter_closed_seller_cancelled"]
    assert r.slots["order_number"] == KEYBOARD and r.slots["customer_id"] == "demo"


def test_a_wrong_email_in_the_same_message_shows_nothing(run, tracker):
    r = answer(run, tracker, sender_id="stranger-9", intent="ask_refund_status",
               text=f"refund for {KEYBOARD} nobody@example.org")

    assert r.responses == ["utter_email_mismatch"]
    assert "order_number" not in r.slots


def test_an_item_name_picks_the_order(run, tracker):
    r = answer(run, tracker, intent="ask_return", text="I want to return my headphnes")

    assert r.slots["order_number"] == "8100000000000018"


@pytest.mark.parametrize("intent, text", [
    ("ask_cancel_after_shipment", "what about my lamp, can i still cancel it"),
    ("ask_refund_status", "how long does the refund for the lamp take"),
])
def test_a_question_whose_answer_is_a_cancellation_offers_to_file_it(run, tracker, intent, text):
    r = answer(run, tracker, intent=intent, text=text, slots={**IN_PLAY, "order_number": LAMP})

    assert r.slots["offer"] == "cancel"
    assert r.responses[-1] == "utter_offer_cancel"


def test_an_item_name_two_orders_share_offers_both(run, tracker):
    r = answer(run, tracker, intent="check_order_status", text="where is my desk stuff")

    assert r.responses == ["utter_choose_order"]
    payloads = [b["payload"] for b in r.message("utter_choose_order")["buttons"]]
    assert len(payloads) == 2 and all(("8100000000000003" in p) or ("8100000000000016" in p) for p in payloads)


def test_items_named_handles_plurals_typos_and_common_words():
    class O:
        def __init__(self, i, item):
            self.id, self.item = i, item

    orders = [O(1, "LED desk lamp"), O(2, "Desk organiser"), O(3, "Kitchen scale"), O(4, "Running shoes"),
              O(5, "Headphones")]
    names = lambda t: [o.id for o in items_named(t, orders)]  # noqa: E731
    assert names("has the lamp shipped") == [1]
    assert names("the kitchen scales") == [3]
    assert names("my headphnes") == [5]
    assert names("the desk organizer") == [2]
    assert names("my desk things") == [1, 2]
    assert names("I'm running out of patience") == []
    assert names("where is my order") == []


def test_more_orders_shows_the_next_page(run, tracker):
    first = answer(run, tracker, intent="check_order_status", text="status of my order")
    second = answer(run, tracker, intent="provide_order_number", entities={"order_page": "2"},
                    text='/provide_order_number{"order_page":"2"}')

    ids = lambda r: [b["payload"] for b in r.message("utter_choose_order")["buttons"]]  # noqa: E731
    assert ids(first)[-1] == '/provide_order_number{"order_page":"2"}'
    assert not set(ids(first)[:-1]) & set(ids(second)[:-1])


# --------------------------------------------------------------------------- no context bleed

def test_a_new_answer_resets_what_the_previous_one_offered_and_any_half_form(run, tracker):
    r = answer(run, tracker, intent="ask_refund_status", entities={"order_number": KEYBOARD},
               slots={**IN_PLAY, "order_number": "8100000000000005", "offer": "dispute",
                      "dispute_reason": "not_received", "topic": "not_received"})

    assert r.slots["offer"] is None and r.slots["dispute_reason"] is None
    assert r.slots["order_number"] == KEYBOARD


def test_where_a_refund_on_its_way_goes_says_how_much_and_by_when_too(run, tracker):
    on_its_way = answer(run, tracker, intent="ask_refund_destination", text="where does the yoga mat money go",
                        slots={**IN_PLAY, "order_number": YOGA_MAT})
    no_refund_yet = answer(run, tracker, intent="ask_refund_destination", text="where would the lamp money go",
                           slots={**IN_PLAY, "order_number": LAMP})

    assert "utter_rule_refund_in_progress" in on_its_way.responses
    assert not any(r.startswith("utter_refund_destination_") for r in on_its_way.responses)
    assert any(r.startswith("utter_refund_destination_") for r in no_refund_yet.responses)


def test_a_question_inside_a_form_does_not_change_the_forms_order(run, tracker):
    r = answer(run, tracker, intent="ask_refund_destination", text="where does the money for the keyboard go",
               active_loop="cancel_form", slots={**IN_PLAY, "order_number": LAMP})

    assert "order_number" not in r.slots and "offer" not in r.slots


def test_calling_the_dispute_form_off_mid_question_stops_it_and_files_nothing(run, tracker):
    r = answer(run, tracker, intent="ask_contact_seller", text="actually nvm ill talk to the seller first",
               active_loop="dispute_form", slots={**IN_PLAY, "order_number": KITCHEN_SCALE, "offer": "dispute",
                                                  "dispute_reason": "damaged", "requested_slot": "dispute_description"})

    assert r.responses == ["utter_form_stopped"]
    assert r.slots["dispute_reason"] is None and r.slots["requested_slot"] is None
    kinds = [(e.get("event"), e.get("name")) for e in r.events]
    assert kinds[-2:] == [("active_loop", None), ("followup", "action_listen")]


def test_a_plain_question_inside_the_dispute_form_keeps_the_form(run, tracker):
    r = answer(run, tracker, intent="ask_contact_seller", text="should i talk to the seller first",
               active_loop="dispute_form", slots={**IN_PLAY, "order_number": KITCHEN_SCALE, "offer": "dispute",
                                                  "dispute_reason": "damaged", "requested_slot": "dispute_description"})

    assert "utter_form_stopped" not in r.responses
    assert ("active_loop", None) not in [(e.get("event"), e.get("name")) for e in r.events]


def _inform(tracker, text, ranking, **slots):
    trk = tracker(intent="inform", text=text, slots={**IN_PLAY, **slots})
    trk.latest_message["intent_ranking"] = [{"name": n, "confidence": c} for n, c in ranking]
    return trk


def _unclear(tracker, text, ranking, history=(), **slots):
    """A message below the fallback threshold: nlu_fallback, then the classifier's `ranking`."""
    trk = tracker(intent="nlu_fallback", text=text, slots={**IN_PLAY, **slots}, history=history)
    trk.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0}] + [
        {"name": n, "confidence": c} for n, c in ranking]
    return trk


def test_a_forms_kind_of_answer_with_no_form_running_is_answered_as_the_question_it_is(run, tracker):
    # "all my money back" reads like the dispute form's refund answer; with no form running it asks about the refund.
    trk = _inform(tracker, "will i get all my money back", [("inform", 0.6), ("ask_refund", 0.2)],
                  order_number=DRONE, topic="escalation")
    r = run(ActionAnswerInform(), trk)

    assert "utter_rule_refund_dispute_escalated" in r.responses
    assert "utter_anything_else" not in r.responses


def test_the_likeliest_question_answers_a_form_answer_out_of_a_form_when_no_word_names_one(run, tracker):
    trk = _inform(tracker, "will i get the whole thing", [("inform", 0.6), ("ask_refund", 0.3)],
                  order_number=YOGA_MAT, topic="status")
    r = run(ActionAnswerInform(), trk)

    assert "utter_rule_refund_in_progress" in r.responses


def test_an_unclear_form_answer_with_no_form_running_is_answered_by_its_words_for_the_order_in_play(run, tracker):
    trk = _unclear(tracker, "will i get all my money back",
                   [("inform", 0.35), ("complain", 0.21), ("ask_refund", 0.13)],
                   order_number=DRONE, topic="escalation")
    r = run(ActionAskAffirmation(), trk)

    assert "utter_rule_refund_dispute_escalated" in r.responses
    kinds = [(e.get("event"), e.get("name")) for e in r.events]
    assert kinds[-2:] == [("active_loop", None), ("followup", "action_listen")]


def test_full_or_partial_with_no_form_running_is_a_question_about_how_much_comes_back(run, tracker):
    trk = _inform(tracker, "full or partial, can i choose", [("inform", 0.95), ("ask_refund", 0.02)],
                  order_number=YOGA_MAT, topic="refund")
    r = run(ActionAnswerInform(), trk)

    assert "utter_anything_else" not in r.responses and r.responses


def test_a_close_call_between_two_refund_questions_is_answered_not_asked_back(run, tracker):
    trk = _unclear(tracker, "will i get my money back",
                   [("ask_refund", 0.35), ("ask_refund_status", 0.31), ("ask_return", 0.1)],
                   order_number=YOGA_MAT, topic="not_received")
    r = run(ActionAskAffirmation(), trk)

    assert "utter_clarify" not in r.responses and "utter_rule_refund_in_progress" in r.responses


def test_how_long_after_it_cannot_be_cancelled_gives_the_dispute_date(run, tracker):
    r = answer(run, tracker, intent="ask_when", text="how long do i have",
               slots={**IN_PLAY, "order_number": SCARF, "topic": "cancel"})

    assert r.responses[0].startswith("utter_rule_cancel")
    assert any(x.startswith("utter_rule_dispute") for x in r.responses[1:])


def _unclear_after(tracker, reply, text, ranking):
    """An unclear message (nlu_fallback) right after the bot's reply `reply` to an earlier unclear one."""
    history = [{"event": "user", "text": "asdkjh qwezz", "parse_data": {"intent": {"name": "nlu_fallback"}}},
               {"event": "bot", "text": "...", "metadata": {"utter_action": reply}},
               {"event": "action", "name": "action_listen"}]
    return _unclear(tracker, text, ranking, history=history)


def test_the_first_real_try_after_the_menu_for_keyboard_mashing_is_read_afresh(run, tracker):
    # Rasa gives up on a second unclear message in a row; after the menu, it is the buyer's first real try.
    trk = _unclear_after(tracker, "utter_menu", "sorry cat walked on my laptop lol. wheres the refund for my keyboard",
                         [("ask_refund_status", 0.39), ("out_of_scope", 0.23)])
    r = run(ActionDefaultFallback(), trk)

    assert "utter_default" not in r.responses
    assert any(KEYBOARD in str(m) for m in r.messages), r.responses  # found by its item name
    assert not any(e.get("event") == "rewind" for e in r.events)


def test_a_second_unclear_message_after_the_clarification_buttons_gets_rasas_answer(run, tracker):
    trk = _unclear_after(tracker, "utter_clarify", "hmm the thing with the stuff",
                         [("ask_refund_status", 0.3), ("out_of_scope", 0.2)])
    r = run(ActionDefaultFallback(), trk)

    assert r.responses == ["utter_default"]
    assert [e.get("event") for e in r.events] == ["rewind"]


def test_the_dialogue_policies_falling_back_get_rasas_answer_even_after_the_menu(run, tracker):
    # The rule policy's core fallback: a clear intent, no next action. Not a second try at reading the message.
    trk = _unclear_after(tracker, "utter_menu", "wheres the refund for my keyboard", [("ask_refund_status", 0.9)])
    trk.latest_message["intent"] = {"name": "ask_refund_status", "confidence": 0.9}
    r = run(ActionDefaultFallback(), trk)

    assert r.responses == ["utter_default"]


def test_a_bare_form_answer_with_no_form_running_gets_anything_else(run, tracker):
    trk = _inform(tracker, "12.50", [("inform", 0.95), ("ask_refund", 0.01)], order_number=YOGA_MAT)
    r = run(ActionAnswerInform(), trk)

    assert r.responses == ["utter_anything_else"]


# --------------------------------------------------------------------------- policy slips

def test_a_delivered_unconfirmed_order_is_answered_as_delivered(run, tracker):
    r = answer(run, tracker, intent="open_dispute", entities={"order_number": KITCHEN_SCALE})

    assert "utter_delivered_dispute_in_transit" in r.responses
    assert "utter_rule_dispute_in_transit" not in r.responses


def test_the_seller_cancelled_gets_the_contact_the_seller_advice(run, tracker):
    r = answer(run, tracker, intent="report_seller_cancelled", entities={"order_number": KEYBOARD})

    assert r.responses[-1] == "utter_seller_cancelled_advice"


def test_not_received_after_confirming_receipt_warns_the_seller_was_paid(run, tracker):
    r = answer(run, tracker, intent="report_not_received", entities={"order_number": SCARF})

    assert r.responses == ["utter_order_in_play", "utter_confirmed_by_mistake", "utter_offer_dispute"]


def test_a_parcel_that_never_came_gets_a_full_refund_dispute_without_asking(run, tracker):
    r = answer(run, tracker, intent="report_not_received", entities={"order_number": "8100000000000009"})

    assert r.slots["dispute_reason"] == "not_received"
    assert r.slots["refund_type"] == "full" and r.slots["refund_amount"] == "64.00 USD"


def test_a_typed_not_arrived_reason_fills_a_full_refund(run, tracker):
    v = ValidateDisputeForm()
    out = v.validate_dispute_reason("tracking_stalled", None, tracker(slots={"order_amount": "58.00 USD"}), {})

    assert out["refund_type"] == "full" and out["refund_amount"] == "58.00 USD"


# --------------------------------------------------------------------------- unpaid cancellation

def test_an_unpaid_order_is_offered_cancellation_at_once_and_the_form_asks_nothing(run, tracker):
    r = answer(run, tracker, intent="cancel_order", entities={"order_number": EARBUDS})
    assert r.responses[-1] == "utter_offer_cancel_unpaid"

    import asyncio

    slots = asyncio.run(ValidateCancelForm().required_slots(
        ["cancel_reason", "cancel_confirm"], None, tracker(slots={"order_status": "awaiting_payment"}), {}))
    assert slots == []


def test_an_unpaid_order_accepted_offer_cancels_it(run, tracker, rows):
    r = run(ActionSubmitCancellation(), tracker(slots={**IN_PLAY, "order_number": EARBUDS,
                                                       "order_status": "awaiting_payment"}))

    assert r.responses == ["utter_cancellation_done_unpaid"]


# --------------------------------------------------------------------------- handoff and anger

def test_the_handoff_relays_later_messages_to_the_transcript(run, tracker, rows):
    first = run(ActionHumanHandoff(), tracker(intent="human_handoff", text="a person please",
                                             slots={**IN_PLAY, "order_number": YOGA_MAT,
                                                    "topic": "refund_status"}))
    ref = first.slots["handoff_ref"]
    (h,) = rows(db.handoff_requests)
    assert h["transcript"].startswith(f"order: {YOGA_MAT} (Yoga mat), closed\npolicy: refund.in_progress")
    assert "buyer wants: Where my refund is" in h["transcript"]

    ValidateHandoffForm().validate_handoff_note("hello?? anyone", None, tracker(slots={"handoff_ref": ref}), {})
    (h,) = rows(db.handoff_requests)
    assert h["transcript"].endswith("buyer: hello?? anyone")

    relay = run(ActionAskHandoffNote(), tracker(slots={"handoff_ref": ref}, text="hello?? anyone"))
    assert relay.responses == ["utter_handoff_relay"]
    assert relay.kwargs("utter_handoff_relay")["handoff_reference"] == ref

    back = run(ActionResumeBot(), tracker(intent="resume_bot", slots={"handoff_ref": ref}))
    assert back.responses == ["utter_bot_back"] and back.slots["handoff_ref"] is None


def test_right_after_the_handoff_the_relay_says_nothing(run, tracker):
    history = [{"event": "action", "name": "action_human_handoff"}]
    r = run(ActionAskHandoffNote(), tracker(slots={"handoff_ref": "HND-1"}, history=[], slot_events=None,
                                            text="a person please"))
    assert r.responses == ["utter_handoff_relay"]  # no handoff since the message: relays
    trk = tracker(slots={"handoff_ref": "HND-1"}, text="a person please")
    trk.events.extend(history)
    assert run(ActionAskHandoffNote(), trk).responses == []


def test_an_angry_buyer_hears_sorry_then_the_refund_then_the_offer_of_a_person(run, tracker):
    r = answer(run, tracker, intent="complain", text="this is a scam, where is my money for the yoga mat")

    assert r.responses[0] == "utter_sorry"
    assert "utter_rule_refund_in_progress" in r.responses
    assert r.responses[-1] == "utter_offer_person"


def test_anger_is_recognised_whatever_the_intent(run, tracker):
    r = answer(run, tracker, intent="ask_refund_status", text="WHERE IS MY MONEY FOR THE BIKE LIGHT")

    assert r.responses[0] == "utter_sorry" and r.responses[-1] == "utter_offer_person"


# --------------------------------------------------------------------------- clarification, language

def test_clarification_offers_buyer_readable_titles_and_keeps_the_order_number(run, tracker):
    trk = tracker(intent="nlu_fallback", text="8100000000000012 something about the money stuff",
                  slots={"order_item": "Yoga mat"})
    trk.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0},
                                            {"name": "ask_refund_status", "confidence": 0.4},
                                            {"name": "ask_refund", "confidence": 0.3},
                                            {"name": "greet", "confidence": 0.2}]
    r = run(ActionAskAffirmation(), trk)

    buttons = r.message("utter_clarify")["buttons"]
    titles = [b["title"] for b in buttons]
    assert titles == ["My refund for the Yoga mat", "A refund for the Yoga mat", "Talk to a person"]
    assert buttons[0]["payload"] == '/ask_refund_status{"order_number":"8100000000000012"}'
    assert not any(re.search(r"[a-z]+_[a-z]+", t) for t in titles)  # never an intent name


def test_a_fallback_with_no_ranking_gets_the_menu(run, tracker):
    trk = tracker(intent="nlu_fallback", text="🤔")
    trk.latest_message["intent_ranking"] = []
    r = run(ActionAskAffirmation(), trk)
    assert r.responses == ["utter_menu"]
    # the next message starts afresh, not as a second failed try at this one
    assert ("active_loop", None) in [(e.get("event"), e.get("name")) for e in r.events]


def test_a_short_follow_up_with_an_order_in_play_is_answered_not_asked_back(run, tracker):
    trk = _unclear(tracker, "how long", [("ask_refund_status", 0.3), ("ask_when", 0.28)],
                   order_number=YOGA_MAT, topic="refund_status")
    r = run(ActionAskAffirmation(), trk)

    assert "utter_clarify" not in r.responses and "utter_rule_refund_in_progress" in r.responses


def test_every_title_is_plain_words():
    for key in TITLES:
        assert "_" not in title(key) + title(key, "Yoga mat")


@pytest.mark.parametrize("text, clusters, found", [
    ("🤔🤔", [], "noise"), ("???", [], "noise"), ("", [], "noise"), ("asdkjh qwpoeiru", [0, 0], "noise"),
    # keyboard mashing that langid would name a language for: no vowel, or five consonants in a row
    ("asdkjh qwezz xcvb", [0, 0, 0], "noise"), ("sdfghj", [0], "noise"),
    ("Geschwindigkeit ist gut", [0, 0, 0], "other_language"),
    ("where is my refund", [5, 7, 9, 11], None), ("8100000000000012", [], None),
    ("refund for my headphnes", [3, 4, 5, 0], None),
    ("где мой заказ", [0, 0, 0], "other_language"),
    ("quiero cancelar mi pedido", [0, 0, 4, 0], "other_language"),
    ("o meu pedido ainda não chegou", [9, 0, 0, 0, 0, 0], "other_language"),
])
def test_the_gate_marks_wordless_unknown_and_foreign_messages(text, clusters, found):
    has_entity = text.isdigit()
    assert verdict(text, clusters, has_entity) == found


@pytest.mark.parametrize("text, clusters", [("refnd", [0]), ("y tho", [0])])
def test_a_misspelt_message_the_classifier_is_sure_of_keeps_its_intent(text, clusters):
    def english_or_unsure(_text):
        return "en", 0.5

    assert verdict(text, clusters, False, classify=english_or_unsure) == "noise"
    assert verdict(text, clusters, False, classify=english_or_unsure, confidence=0.95) is None
    assert verdict("asdkjh qwpoeiru", [0, 0], False, confidence=0.99) == "noise"  # mashing stays noise


@pytest.mark.parametrize("text, response", [
    ("¿dónde está mi reembolso? quiero cancelar mi pedido", "utter_other_language_es"),
    ("meu pacote não chegou, quero o meu dinheiro de volta", "utter_other_language_pt"),
    ("где мой возврат денег", "utter_other_language_ru"),
    ("wo ist mein Paket, ich warte seit Wochen", "utter_other_language_en"),
])
def test_another_language_is_answered_in_it_where_the_text_exists(run, tracker, text, response):
    assert run(ActionOtherLanguage(), tracker(intent="other_language", text=text)).responses == [response]


# --------------------------------------------------------------------------- sessions

def test_a_new_session_keeps_the_order_but_no_half_form_offer_handoff_or_proven_customer(run, tracker):
    slots = {**IN_PLAY, "order_number": LAMP, "requested_slot": "cancel_confirm", "cancel_reason": "other",
             "offer": "cancel", "handoff_ref": "HND-1", "topic": "cancel"}
    r = run(ActionSessionStart(), tracker(slots=slots))

    # Who the buyer is comes from the channel or this session's verification (actions.identity), never a slot.
    assert r.slots == {"order_number": LAMP}


# --------------------------------------------------------------------------- several questions

@pytest.mark.parametrize("text, answered, others", [
    ("can I cancel the lamp and where would the refund go?", "cancel", ["refund_destination"]),
    ("where is my refund for the yoga mat? also how do I return something?", "refund_status", ["return"]),
    ("the seller cancelled my keyboard, where does my money go?", "seller_cancelled", []),
    ("I want to cancel, it has not shipped", "cancel", []),
    ("where is my refund", "refund_status", []),
])
def test_other_questions_in_the_message_are_found(text, answered, others):
    from actions.actions import other_questions

    assert other_questions(text, answered) == others


def test_a_second_question_is_offered_as_a_button_for_the_same_order(run, tracker):
    r = answer(run, tracker, intent="ask_refund_status",
               text="where is my refund for the yoga mat? also how do I return it?")

    assert "utter_rule_refund_in_progress" in r.responses
    (button,) = r.message("utter_also_asked")["buttons"]
    assert button == {"title": "Returning the Yoga mat", "payload": '/ask_return{"order_number":"%s"}' % YOGA_MAT}


def test_an_unclear_message_that_names_an_order_is_answered_for_it(run, tracker):
    trk = tracker(intent="nlu_fallback", text="and for the keyboard?", slots={**IN_PLAY, "topic": "refund_status",
                                                                              "order_number": YOGA_MAT})
    trk.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0},
                                            {"name": "ask_options", "confidence": 0.3}]
    r = run(ActionAskAffirmation(), trk)

    assert r.responses[:2] == ["utter_order_in_play", "utter_closed_seller_cancelled"]
    assert r.slots["order_number"] == KEYBOARD
    kinds = [(e.get("event"), e.get("name")) for e in r.events]
    assert kinds[-2:] == [("active_loop", None), ("followup", "action_listen")]  # the loop ends here


# --------------------------------------------------------------------------- second batch of buyer conversations

RUNNING_SHOES = "8100000000000004"  # cancellation requested 30 h before NOW, the seller has 72 h
SPEAKER = "8100000000000005"  # shipped, in transit


@pytest.mark.parametrize("text", ["and if they dont answer at all?", "and if they just ignore it",
                                  "what if the seller never replies"])
def test_what_if_the_seller_never_answers_a_possible_cancellation_is_the_automatic_cancellation(run, tracker, text):
    r = answer(run, tracker, intent="ask_if_seller_refuses", text=text,
               slots={**IN_PLAY, "order_number": LAMP, "topic": "cancel", "offer": "cancel"})

    # the cancel rule's answer says the seller has 72 hours and silence cancels it; not the rejection answer
    assert r.responses == ["utter_rule_cancel_request_seller"]
    assert "offer" not in r.slots  # the offer to file still stands


def test_what_if_the_seller_never_answers_a_pending_request_gives_the_sellers_deadline(run, tracker):
    r = answer(run, tracker, intent="ask_if_seller_refuses", text="and if they ignore my request?",
               slots={**IN_PLAY, "order_number": RUNNING_SHOES, "topic": "cancellation_status"})

    assert r.responses == ["utter_rule_cancel_request_pending"]
    assert r.kwargs("utter_rule_cancel_request_pending")["seller_answer_by"] == "Tue 24 Nov, 06:00 UTC"


def test_what_if_the_seller_never_answers_an_open_dispute_says_when_it_goes_to_the_platform(run, tracker):
    r = answer(run, tracker, intent="ask_if_seller_refuses", text="what if the seller never responds",
               slots={**IN_PLAY, "order_number": WALLET, "topic": "escalation"})

    assert r.responses == ["utter_rule_dispute_open"]
    assert r.kwargs("utter_rule_dispute_open")["escalates_at"] != "-"


def test_what_if_the_seller_refuses_is_still_the_rejection_answer(run, tracker):
    r = answer(run, tracker, intent="ask_if_seller_refuses", text="what if they say no",
               slots={**IN_PLAY, "order_number": RUNNING_SHOES, "topic": "cancellation_status"})

    assert r.responses == ["utter_followup_refuses_cancel"]


def test_a_delivered_parcel_the_buyer_never_got_is_a_dispute_for_not_received_never_a_return(run, tracker):
    r = answer(run, tracker, intent="report_not_received",
               text="tracking says my kitchen scale was delivered but it isn't here")

    assert "utter_delivered_not_received" in r.responses
    assert not any("return" in name for name in r.responses)
    assert r.kwargs("utter_delivered_not_received")["dispute_until"] != "-"
    assert r.slots["offer"] == "dispute"
    assert r.slots["refund_type"] == "full"  # nothing to keep: never a partial refund

    options = answer(run, tracker, intent="ask_options", text="what should i do",
                     slots={**IN_PLAY, "order_number": KITCHEN_SCALE, "topic": "not_received"})
    assert options.responses == ["utter_delivered_not_received"]


def test_options_for_a_delivered_parcel_that_was_received_still_include_the_return(run, tracker):
    r = answer(run, tracker, intent="ask_options", text="what can i do",
               slots={**IN_PLAY, "order_number": KITCHEN_SCALE, "topic": "not_as_described"})

    assert "utter_rule_return_within_window" in r.responses
    assert "utter_delivered_not_received" not in r.responses


def test_an_unclear_when_is_my_item_arriving_is_answered_with_that_orders_status(run, tracker):
    trk = tracker(intent="nlu_fallback", text="when is my bluetooth speaker arriving", slots=IN_PLAY)
    trk.latest_message["intent_ranking"] = [{"name": "nlu_fallback", "confidence": 1.0},
                                            {"name": "check_order_status", "confidence": 0.3}]
    r = run(ActionAskAffirmation(), trk)

    assert r.responses[:2] == ["utter_order_in_play", "utter_status_awaiting_delivery"]
    assert r.slots["order_number"] == SPEAKER


def test_it_has_been_weeks_after_a_refund_answer_is_frustration_about_that_refund(run, tracker):
    r = answer(run, tracker, intent="report_not_received", text="its been almost a month!!",
               slots={**IN_PLAY, "order_number": "8100000000000017", "topic": "refund_status"})

    assert r.responses[0] == "utter_sorry"
    assert "utter_rule_refund_overdue" in r.responses
    assert r.responses[-1] == "utter_offer_person"
    assert r.slots["topic"] == "refund_status"


def test_a_question_about_the_sellers_answer_while_a_cancellation_is_offered_stays_with_that_order(run, tracker):
    r = answer(run, tracker, intent="ask_cancellation_status", text="how long does the seller get to reply",
               slots={**IN_PLAY, "order_number": LAMP, "topic": "cancel", "offer": "cancel"})

    assert "utter_rule_cancel_request_seller" in r.responses
    assert r.slots["order_number"] == LAMP


def test_an_unclear_follow_up_with_an_order_in_play_is_answered_for_that_order(run, tracker):
    trk = _unclear(tracker, "fine, when exactly", [("ask_when", 0.35), ("ask_refund_status", 0.3)],
                   order_number=YOGA_MAT, topic="refund_status")
    r = run(ActionAskAffirmation(), trk)

    assert r.responses == ["utter_rule_refund_in_progress"]
    kinds = [(e.get("event"), e.get("name")) for e in r.events]
    assert kinds[-2:] == [("active_loop", None), ("followup", "action_listen")]


def test_an_unclear_follow_up_with_no_order_in_play_is_still_clarified(run, tracker):
    r = run(ActionAskAffirmation(), _unclear(tracker, "fine, when exactly", [("ask_when", 0.35), ("ask_refund", 0.3)]))

    assert r.responses == ["utter_clarify"]


def test_an_unclear_message_about_another_topic_with_an_order_in_play_is_still_clarified(run, tracker):
    trk = _unclear(tracker, "will i get it all", [("ask_refund", 0.35), ("open_dispute", 0.3)],
                   order_number=YOGA_MAT, topic="return")
    assert run(ActionAskAffirmation(), trk).responses == ["utter_clarify"]


def test_an_unclear_thanks_gets_you_are_welcome_not_the_menu(run, tracker):
    r = run(ActionAskAffirmation(), _unclear(tracker, "ok thx", [("affirm", 0.35), ("thank", 0.34)]))

    assert r.responses == ["utter_you_are_welcome"]


def test_a_thanks_the_gate_took_for_noise_gets_you_are_welcome(run, tracker):
    r = run(ActionAskAffirmation(), _unclear(tracker, "ok thx", []))

    assert r.responses == ["utter_you_are_welcome"]


def test_an_unclear_where_is_my_item_with_no_order_in_play_asks_which_order(run, tracker):
    trk = _unclear(tracker, "where are my phone cases", [("check_order_status", 0.35), ("ask_options", 0.3)])
    r = run(ActionAskAffirmation(), trk)

    assert r.responses == ["utter_choose_order"]
    assert r.message("utter_choose_order")["buttons"]


def test_an_unclear_message_whose_likeliest_topic_is_the_status_asks_which_order(run, tracker):
    trk = _unclear(tracker, "where are my phone cases", [("inform", 0.36), ("check_order_status", 0.35)])

    assert run(ActionAskAffirmation(), trk).responses == ["utter_choose_order"]
