"""action_answer_question: finding the order, checking it is the buyer's, and answering from the policy.

Real `rasa_sdk.Tracker` and `CollectingDispatcher` objects against the demo data in a SQLite store,
on a fixed clock (NOW = Sun 22 Nov 2026, 12:00 UTC). Assertions are on response names, on the
template variables that carry dates, and on the slots the action sets.
"""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest

from actions.actions import MAX_BUTTONS, ActionAnswerQuestion
from botkit import DEMO_EMAIL, NOW, OTHERS_ORDER, UNKNOWN_ORDER, customer_with_orders
from orderdesk import db
from orderdesk.demo import demo_payload

PENDING_CANCELLATION = "8100000000000004"  # requested 30 h before NOW; the seller has 72 h
AWAITING_SHIPMENT = "8100000000000003"
SHIPPED = "8100000000000005"
STRANGER = "stranger-42"  # a sender id no customer is linked to

ORDER_FACTS = ("order_number", "customer_id", "order_status", "order_amount", "order_item", "deadline")


def answer(run, tracker, **kw):
    return run(ActionAnswerQuestion(), tracker(**kw))


# --------------------------------------------------------------------------- a linked buyer

def test_a_linked_buyer_asking_about_a_pending_cancellation_is_told_the_sellers_exact_deadline(run, tracker):
    r = answer(run, tracker, intent="ask_cancellation_status", entities={"order_number": PENDING_CANCELLATION},
               text="did the seller answer my cancellation of 8100000000000004?")

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_request_pending"]
    said = r.kwargs("utter_rule_cancel_request_pending")
    # requested 30 h before NOW (Sun 22 Nov 12:00), answer due 72 h after the request
    assert said["requested_at"] == "Sat 21 Nov, 06:00 UTC"
    assert said["seller_answer_by"] == "Tue 24 Nov, 06:00 UTC"
    assert said["refund_min_days"] == 3 and said["refund_max_days"] == 20
    assert r.slots["order_number"] == PENDING_CANCELLATION
    assert r.slots["customer_id"] == "demo"
    assert r.slots["deadline"] == "Tue 24 Nov, 06:00 UTC"
    assert r.slots["order_status"] == "awaiting_shipment"
    assert r.slots["order_amount"] == "45.00 USD"
    assert r.slots["order_item"] == "Running shoes"
    assert r.slots["topic"] == "cancellation_status"
    assert r.slots["offer"] is None  # a request is already pending: nothing to offer


def test_an_order_number_typed_with_spaces_dashes_or_a_hash_is_read_as_the_same_order(run, tracker):
    r = answer(run, tracker, intent="check_order_status", entities={"order_number": "#8100-0000 0000-0004"})

    assert r.responses == ["utter_order_in_play", "utter_status_awaiting_shipment"]
    assert r.slots["order_number"] == PENDING_CANCELLATION


def test_asking_again_about_the_order_in_play_does_not_announce_it_again(run, tracker):
    slots = {"order_number": PENDING_CANCELLATION, "customer_id": "demo"}
    r = answer(run, tracker, intent="ask_refund", slots=slots)

    assert r.responses == ["utter_rule_refund_awaiting_seller"]
    assert r.kwargs("utter_rule_refund_awaiting_seller")["seller_answer_by"] == "Tue 24 Nov, 06:00 UTC"


def test_a_question_that_is_not_a_topic_keeps_the_topic_already_in_play(run, tracker):
    r = answer(run, tracker, intent="provide_order_number", slots={"topic": "cancel"},
               entities={"order_number": AWAITING_SHIPMENT})

    assert r.slots["topic"] == "cancel"
    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_request_seller", "utter_offer_cancel"]
    assert r.kwargs("utter_rule_cancel_request_seller")["ship_by"] == "Sat 28 Nov, 12:00 UTC"


def test_a_linked_buyer_with_several_orders_is_asked_to_choose_with_buttons_that_fit_telegram(run, tracker):
    r = answer(run, tracker, intent="check_order_status", text="where is my order?")

    assert r.responses == ["utter_choose_order"]
    buttons = r.message("utter_choose_order")["buttons"]
    assert 1 <= len(buttons) <= MAX_BUTTONS == 5
    chosen = []
    for b in buttons:
        payload = b["payload"]
        assert len(payload.encode("utf-8")) <= 64, payload  # Telegram's callback_data limit
        m = re.fullmatch(r"/provide_order_number(\{.*\})", payload)
        assert m, payload
        if b["title"] == "More orders":  # the buyer has more orders than fit: the next ones
            assert json.loads(m.group(1)) == {"order_page": "2"}
            continue
        chosen.append(json.loads(m.group(1))["order_number"])
        assert chosen[-1] in b["title"]
    assert buttons[-1]["title"] == "More orders" and len(chosen) == MAX_BUTTONS - 1
    assert len(set(chosen)) == len(chosen)
    assert all(oid.startswith("81") for oid in chosen)  # only the buyer's own orders
    assert OTHERS_ORDER not in chosen
    assert "order_number" not in r.slots


def test_order_buttons_stay_within_64_bytes_even_for_19_digit_order_numbers(run, tracker, load):
    longest = ["9" * 19, "9" * 18 + "8"]
    load(customer_with_orders("longids", "chat-longids", *longest))

    r = answer(run, tracker, sender_id="chat-longids", intent="check_order_status")

    assert r.responses == ["utter_choose_order"]
    payloads = [b["payload"] for b in r.message("utter_choose_order")["buttons"]]
    assert sorted(payloads) == sorted('/provide_order_number{"order_number":"%s"}' % oid for oid in longest)
    assert max(len(p.encode()) for p in payloads) <= 64


def test_a_linked_buyer_with_a_single_order_gets_the_answer_without_choosing(run, tracker, load):
    load(customer_with_orders("solo", "chat-solo", "7100000000000001"))

    r = answer(run, tracker, sender_id="chat-solo", intent="cancel_order")

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_request_seller", "utter_offer_cancel"]
    assert r.slots["order_number"] == "7100000000000001"
    assert r.slots["customer_id"] == "solo"
    assert r.slots["offer"] == "cancel"


def test_a_linked_buyer_without_orders_is_told_there_are_none(run, tracker, load):
    load(customer_with_orders("nobody", "chat-nobody"))

    r = answer(run, tracker, sender_id="chat-nobody", intent="ask_refund")

    assert r.responses == ["utter_no_orders"]
    assert not set(ORDER_FACTS) & set(r.slots)


def test_a_chat_linked_on_another_channel_is_not_linked_on_this_one(run, tracker):
    # customer `demo` is linked to sender "demo" on rest, socketio and cmdline, not on telegram
    r = answer(run, tracker, channel="telegram", intent="check_order_status",
               entities={"order_number": AWAITING_SHIPMENT})

    assert r.responses == ["utter_ask_email"]


def test_a_linked_buyer_naming_another_customers_order_is_told_nothing_about_it(run, tracker, count):
    r = answer(run, tracker, intent="check_order_status", entities={"order_number": OTHERS_ORDER},
               text=f"status of {OTHERS_ORDER}")

    assert r.responses == ["utter_not_your_order"]
    assert r.kwargs("utter_not_your_order") == {"order_number": OTHERS_ORDER}
    assert r.slots == {"topic": "status", "pending_order": OTHERS_ORDER}
    # not even a decision was recorded for it
    assert count(db.audit_log, db.audit_log.c.order_id == OTHERS_ORDER, db.audit_log.c.kind == "decision") == 0


def test_a_buyer_told_an_order_is_not_theirs_can_prove_it_with_the_email_on_it(run, tracker):
    # order 3 is in play when the buyer names someone else's order, then gives that order's email
    slots = {"topic": "status", "order_number": AWAITING_SHIPMENT, "customer_id": "demo",
             "pending_order": OTHERS_ORDER}
    r = answer(run, tracker, intent="provide_email", slots=slots, entities={"email": "other@example.com"})

    assert r.responses == ["utter_order_in_play", "utter_status_awaiting_shipment"]
    assert r.kwargs("utter_order_in_play")["order_number"] == OTHERS_ORDER
    assert r.slots["order_number"] == OTHERS_ORDER
    assert r.slots["customer_id"] == "other"
    assert r.slots["pending_order"] is None


def test_a_linked_buyer_naming_an_unknown_order_hears_the_same_as_for_someone_elses(run, tracker):
    unknown = answer(run, tracker, intent="check_order_status", entities={"order_number": UNKNOWN_ORDER})
    others = answer(run, tracker, intent="check_order_status", entities={"order_number": OTHERS_ORDER})

    assert unknown.responses == others.responses == ["utter_not_your_order"]
    # the same state too: either can be followed by the email on the order
    assert unknown.slots == {"topic": "status", "pending_order": UNKNOWN_ORDER}
    assert others.slots == {"topic": "status", "pending_order": OTHERS_ORDER}


@pytest.mark.parametrize("raw", ["81000abc", "8" * 40, "8100000000000001; DROP TABLE orders", "x" * 300, "12345"])
def test_a_malformed_order_number_is_refused_without_a_lookup(run, tracker, raw):
    r = answer(run, tracker, intent="check_order_status", entities={"order_number": raw})

    assert r.responses == ["utter_bad_order_number"]
    assert r.kwargs("utter_bad_order_number") == {"order_number": raw[:40]}
    assert set(r.slots) == {"topic"}


def test_a_malformed_order_number_from_an_unlinked_sender_is_refused_before_asking_for_an_email(run, tracker):
    r = answer(run, tracker, sender_id=STRANGER, intent="check_order_status", entities={"order_number": "81000abc"})

    assert r.responses == ["utter_bad_order_number"]


# --------------------------------------------------------------------------- which order a question is about

REJECTED_CANCELLATION = "8100000000000006"  # the seller rejected it 4 days before NOW, tracking RB123456789CN


def button_orders(result):
    """The order numbers the buttons of `utter_choose_order` carry, in order."""
    out = []
    for b in result.message("utter_choose_order")["buttons"]:
        if b["title"] == "More orders":
            assert b["payload"] == '/provide_order_number{"order_page":"2"}'
            continue
        m = re.fullmatch(r'/provide_order_number\{"order_number":"(\d+)"\}', b["payload"])
        assert m, b["payload"]
        assert b["title"].endswith(f"({m.group(1)})")
        out.append(m.group(1))
    return out


def demo_orders():
    return [o["id"] for o in demo_payload(NOW)["orders"] if o["customer"] == "demo"]


def test_a_rejected_cancellation_question_goes_straight_to_the_rejected_order(run, tracker):
    r = answer(run, tracker, intent="report_seller_rejected_cancellation", text="the seller rejected my cancellation")

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_rejected", "utter_rule_dispute_in_transit",
                           "utter_offer_dispute"]
    shown = r.kwargs("utter_order_in_play")
    assert (shown["order_number"], shown["item"], shown["status_text"]) == (
        REJECTED_CANCELLATION, "Winter jacket", "shipped")
    said = r.kwargs("utter_rule_cancel_rejected")
    assert said["rejected_at"] == "Wed 18 Nov, 12:00 UTC"
    assert said["tracking_number"] == "RB123456789CN"
    assert r.slots["order_number"] == REJECTED_CANCELLATION
    assert r.slots["customer_id"] == "demo"
    assert r.slots["offer"] == "dispute"


def test_the_rejected_order_is_one_the_five_most_recent_buttons_would_not_have_shown(svc):
    five_most_recent = svc.orders_for_question("demo", "check_order_status")[:5]
    assert REJECTED_CANCELLATION not in [c.order.id for c in five_most_recent]


@pytest.mark.parametrize("intent, oid, rule, offer", [
    ("report_seller_cancelled", "8100000000000007", "utter_rule_refund_in_progress", None),
    ("escalate_dispute", "8100000000000010", "utter_rule_dispute_open", "escalate"),
    # the seller has been paid: warned, and pointed to a dispute (article 000)
    ("report_confirmed_by_mistake", "8100000000000008", "utter_confirmed_by_mistake", "dispute"),
], ids=["seller_cancelled", "open_dispute", "confirmed_3_days_ago"])
def test_a_strong_question_only_one_order_fits_is_answered_for_that_order(run, tracker, intent, oid, rule, offer):
    r = answer(run, tracker, intent=intent)

    assert r.responses[0] == "utter_order_in_play"
    assert r.kwargs("utter_order_in_play")["order_number"] == oid
    assert rule in r.responses
    assert r.slots["order_number"] == oid
    assert r.slots["offer"] == offer


def test_a_cancel_question_offers_the_cancellable_orders_first(run, tracker, svc):
    r = answer(run, tracker, intent="cancel_order", text="I want to cancel my order")

    assert r.responses == ["utter_choose_order"]
    assert "order_number" not in r.slots
    offered = button_orders(r)
    assert len(offered) == MAX_BUTTONS - 1  # and "More orders"

    def kind(oid):
        d = svc.explain(oid, customer_id="demo", record=False)
        if d.cancel.allowed:
            return "cancellable"
        return "not shipped" if d.status.value in ("awaiting_payment", "payment_processing",
                                                   "awaiting_shipment") else "other"

    assert [kind(oid) for oid in offered] == ["cancellable", "cancellable", "not shipped", "not shipped"]
    cancellable = [oid for oid in demo_orders() if kind(oid) == "cancellable"]
    assert sorted(offered[:2]) == sorted(cancellable) == ["8100000000000001", AWAITING_SHIPMENT]
    assert offered[:2] == ["8100000000000001", AWAITING_SHIPMENT]  # both placed two days ago: by number


def test_a_cancellation_status_question_with_several_requests_answers_for_the_only_pending_one(run, tracker):
    # pending (4), rejected (6), approved (17): only one is still waiting for an answer
    r = answer(run, tracker, intent="ask_cancellation_status", text="any news on my cancellation?")

    assert r.responses[:2] == ["utter_order_in_play", "utter_rule_cancel_request_pending"]
    assert r.slots["order_number"] == PENDING_CANCELLATION


def test_a_strong_question_no_order_fits_offers_the_most_recent_orders(run, tracker, load):
    load(customer_with_orders("fresh", "chat-fresh", "7200000000000001", "7200000000000002", "7200000000000003"))

    r = answer(run, tracker, sender_id="chat-fresh", intent="report_seller_rejected_cancellation")

    assert r.responses == ["utter_choose_order"]
    assert button_orders(r) == ["7200000000000001", "7200000000000002", "7200000000000003"]  # newest first
    assert "order_number" not in r.slots


def test_a_general_question_one_order_fits_still_lets_the_buyer_choose_with_that_order_first(run, tracker, load):
    data = customer_with_orders("few", "chat-few", "7300000000000001", "7300000000000002", "7300000000000003")
    checking = data["orders"][2]  # the oldest of the three, paid an hour ago: payment being checked
    checking.update(status="payment_processing", paid_at=(NOW - timedelta(hours=1)).isoformat())
    load(data)

    r = answer(run, tracker, sender_id="chat-few", intent="ask_no_cancel_button")

    assert r.responses == ["utter_choose_order"]
    assert button_orders(r) == ["7300000000000003", "7300000000000001", "7300000000000002"]


def test_no_more_than_five_buttons_even_when_more_orders_fit(run, tracker, svc):
    r = answer(run, tracker, intent="report_not_as_described", text="the item is not as described")

    offered = button_orders(r)
    assert len(r.message("utter_choose_order")["buttons"]) == MAX_BUTTONS
    assert len(offered) == MAX_BUTTONS - 1  # and "More orders"
    statuses = {svc.explain(oid, customer_id="demo", record=False).status.value for oid in offered}
    assert statuses <= {"awaiting_delivery", "completed"}  # all shipped


def test_a_strong_question_the_order_in_play_does_not_fit_moves_to_the_order_it_fits(run, tracker):
    slots = {"order_number": AWAITING_SHIPMENT, "customer_id": "demo", "topic": "refund"}
    r = answer(run, tracker, intent="report_seller_rejected_cancellation", slots=slots)

    assert r.responses[:2] == ["utter_order_in_play", "utter_rule_cancel_rejected"]  # named first
    assert r.slots["order_number"] == REJECTED_CANCELLATION


def test_a_strong_question_that_fits_the_order_in_play_stays_with_that_order(run, tracker):
    slots = {"order_number": REJECTED_CANCELLATION, "customer_id": "demo", "topic": "refund"}
    r = answer(run, tracker, intent="report_seller_rejected_cancellation", slots=slots)

    assert "utter_order_in_play" not in r.responses
    assert "utter_choose_order" not in r.responses
    assert r.slots["order_number"] == REJECTED_CANCELLATION


def test_a_strong_question_from_a_stranger_gets_the_general_answer_and_is_asked_for_the_order(run, tracker):
    r = answer(run, tracker, sender_id=STRANGER, intent="report_seller_rejected_cancellation")

    assert r.responses == ["utter_general_dispute", "utter_ask_order_number"]
    assert "order_number" not in r.slots


# --------------------------------------------------------------------------- a sender nobody is linked to

@pytest.mark.parametrize("oid", [AWAITING_SHIPMENT, OTHERS_ORDER, UNKNOWN_ORDER])
def test_a_sender_who_is_not_linked_is_asked_for_the_email_before_hearing_anything_about_the_order(
        run, tracker, oid):
    r = answer(run, tracker, sender_id=STRANGER, intent="cancel_order", entities={"order_number": oid},
               text=f"cancel {oid}")

    # the same answer whether the order exists, is someone else's, or doesn't exist
    assert r.responses == ["utter_ask_email"]
    assert r.kwargs("utter_ask_email") == {"order_number": oid}
    assert r.slots == {"topic": "cancel", "pending_order": oid}


def test_a_wrong_email_reveals_nothing_about_the_order(run, tracker):
    slots = {"topic": "cancel", "pending_order": AWAITING_SHIPMENT}
    r = answer(run, tracker, sender_id=STRANGER, intent="provide_email", slots=slots,
               entities={"email": "someone.else@example.com"}, text="someone.else@example.com")

    assert r.responses == ["utter_email_mismatch"]
    assert r.kwargs("utter_email_mismatch") == {"order_number": AWAITING_SHIPMENT}
    assert r.slots == {"topic": "cancel"}  # the pending order stays; nothing else is set


def test_the_right_email_answers_the_question_that_was_asked(run, tracker):
    slots = {"topic": "cancel", "pending_order": AWAITING_SHIPMENT}
    r = answer(run, tracker, sender_id=STRANGER, intent="provide_email", slots=slots,
               entities={"email": " Demo@Example.COM "}, text="Demo@Example.COM")

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_request_seller", "utter_offer_cancel"]
    assert r.slots["pending_order"] is None
    assert r.slots["customer_id"] == "demo"
    assert r.slots["order_number"] == AWAITING_SHIPMENT
    assert r.slots["offer"] == "cancel"
    assert r.slots["deadline"] == "Sat 28 Nov, 12:00 UTC"


def test_an_email_for_an_order_that_does_not_exist_gets_the_answer_and_state_of_a_wrong_email(run, tracker):
    slots = {"topic": "status", "pending_order": UNKNOWN_ORDER}
    unknown = answer(run, tracker, sender_id=STRANGER, intent="provide_email", slots=slots,
                     entities={"email": DEMO_EMAIL})
    slots = {"topic": "status", "pending_order": AWAITING_SHIPMENT}
    wrong = answer(run, tracker, sender_id=STRANGER, intent="provide_email", slots=slots,
                   entities={"email": "someone.else@example.com"})

    assert unknown.responses == wrong.responses == ["utter_email_mismatch"]
    assert unknown.slots == wrong.slots == {"topic": "status"}


def test_an_unlinked_sender_who_still_owes_the_email_is_asked_for_it_again(run, tracker):
    slots = {"topic": "cancel", "pending_order": AWAITING_SHIPMENT}
    r = answer(run, tracker, sender_id=STRANGER, intent="ask_refund", slots=slots)

    assert r.responses == ["utter_ask_email"]
    assert "order_number" not in r.slots


@pytest.mark.parametrize("intent, general", [
    ("cancel_order", "utter_general_cancel"), ("ask_refund_destination", "utter_general_refund_destination"),
    ("ask_return", "utter_general_return"), ("check_order_status", "utter_general_status"),
    ("ask_unpaid_order", "utter_general_unpaid"), ("report_seller_cancelled", "utter_general_refund")])
def test_an_unlinked_sender_without_an_order_number_gets_the_general_answer_and_is_asked_for_one(
        run, tracker, intent, general):
    r = answer(run, tracker, sender_id=STRANGER, intent=intent)

    assert r.responses == [general, "utter_ask_order_number"]


# --------------------------------------------------------------------------- offers

@pytest.mark.parametrize("oid, intent, offer", [
    ("8100000000000001", "cancel_order", "cancel"),  # unpaid: cancel at once
    (AWAITING_SHIPMENT, "cancel_order", "cancel"),  # the seller must approve
    (AWAITING_SHIPMENT, "ask_refund", "cancel"),  # refund.cancel_first
    (AWAITING_SHIPMENT, "ask_unpaid_order", "cancel"),
    ("8100000000000002", "cancel_order", None),  # payment still being checked
    (PENDING_CANCELLATION, "cancel_order", None),  # already requested
    (SHIPPED, "cancel_order", None),  # shipped
    ("8100000000000006", "cancel_order", None),  # the seller rejected it
    ("8100000000000007", "cancel_order", None),  # closed
    (SHIPPED, "report_not_received", "dispute"),
    (SHIPPED, "ask_refund", "dispute"),
    ("8100000000000009", "open_dispute", "dispute"),
    ("8100000000000010", "open_dispute", None),  # a dispute is already open
    ("8100000000000010", "escalate_dispute", "escalate"),
    ("8100000000000011", "escalate_dispute", None),  # escalated already
    ("8100000000000015", "open_dispute", None),  # buyer protection over
    (AWAITING_SHIPMENT, "check_order_status", None),  # a status question offers nothing
])
def test_an_offer_is_made_only_when_the_policy_allows_it(run, tracker, oid, intent, offer):
    r = answer(run, tracker, intent=intent, entities={"order_number": oid})

    assert r.slots["offer"] == offer
    offers = [n for n in r.responses if n.startswith("utter_offer_")]
    # an unpaid order is cancelled at once: its offer says so, with no seller window
    said = f"utter_offer_{offer}_unpaid" if oid == "8100000000000001" else f"utter_offer_{offer}"
    assert offers == ([said] if offer else [])
    if offer:
        assert r.responses[-1] == said
        assert r.kwargs(said)["order_number"] == oid


@pytest.mark.parametrize("loop", ["cancel_form", "dispute_form"])
def test_nothing_is_offered_while_a_form_is_active(run, tracker, loop):
    r = answer(run, tracker, intent="cancel_order", entities={"order_number": AWAITING_SHIPMENT}, active_loop=loop)

    assert "offer" not in r.slots
    assert not [n for n in r.responses if n.startswith("utter_offer_")]
    assert "utter_rule_cancel_request_seller" in r.responses


@pytest.mark.parametrize("intent, reason", [("report_not_received", "not_received"),
                                            ("report_not_as_described", "not_as_described")])
def test_a_dispute_offer_after_naming_the_problem_remembers_the_reason(run, tracker, intent, reason):
    r = answer(run, tracker, intent=intent, entities={"order_number": SHIPPED})

    assert r.slots["offer"] == "dispute"
    assert r.slots["dispute_reason"] == reason


def test_a_dispute_offered_for_another_question_leaves_the_reason_to_the_form(run, tracker):
    r = answer(run, tracker, intent="open_dispute", entities={"order_number": SHIPPED})

    assert r.slots["offer"] == "dispute"
    assert r.slots.get("dispute_reason") is None


# --------------------------------------------------------------------------- answers for every demo order

def test_an_order_under_dispute_still_states_when_its_delivery_window_ends(run, tracker):
    r = answer(run, tracker, intent="check_order_status", entities={"order_number": "8100000000000010"})

    # delivered 6 days ago, but under dispute: the shipped status, not "delivered, return until", then where
    # the dispute stands
    assert r.responses == ["utter_order_in_play", "utter_status_awaiting_delivery", "utter_rule_dispute_open"]
    said = r.kwargs("utter_status_awaiting_delivery")
    assert said["shipped_at"] == "Wed 28 Oct, 12:00 UTC"
    assert said["delivery_window_ends"] == "Sun 27 Dec, 12:00 UTC"  # shipped 25 days ago + 60 days


def test_a_completed_order_past_buyer_protection_does_not_promise_a_dispute(run, tracker, domain):
    r = answer(run, tracker, intent="cancel_order", entities={"order_number": "8100000000000015"})

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_completed", "utter_rule_dispute_window_closed"]
    assert r.kwargs("utter_rule_dispute_window_closed")["dispute_until"] == "Wed 28 Oct, 12:00 UTC"
    assert "{dispute_until}" not in domain["responses"]["utter_rule_cancel_completed"][0]["text"]


def test_a_completed_order_within_buyer_protection_says_until_when_a_dispute_is_possible(run, tracker):
    r = answer(run, tracker, intent="cancel_order", entities={"order_number": "8100000000000008"})

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_completed", "utter_rule_dispute_after_completion"]
    assert r.kwargs("utter_rule_dispute_after_completion")["dispute_until"] == "Fri 4 Dec, 12:00 UTC"


def test_a_question_about_cancelling_and_disputing_a_completed_order_answers_the_dispute_once(run, tracker):
    r = answer(run, tracker, intent="report_seller_rejected_cancellation",
               entities={"order_number": "8100000000000015"})

    assert r.responses == ["utter_order_in_play", "utter_rule_cancel_completed", "utter_rule_dispute_window_closed"]


def test_answering_records_the_decision_in_the_audit_log(run, tracker, rows):
    answer(run, tracker, intent="ask_refund", entities={"order_number": SHIPPED})

    decisions = rows(db.audit_log, db.audit_log.c.order_id == SHIPPED, db.audit_log.c.kind == "decision")
    assert len(decisions) == 1
    assert decisions[0]["actor"] == "bot:rest"
    assert json.loads(decisions[0]["detail"])["rules"]["refund"] == "refund.via_dispute"


def test_a_status_question_about_an_order_with_a_dispute_says_where_the_dispute_stands(run, tracker):
    # "dispte status 8100000000000011": the drone's dispute is with the platform; the shipping status alone
    # would leave the buyer's question unanswered.
    r = answer(run, tracker, intent="check_order_status", entities={"order_number": "8100000000000011"},
               text="dispte status 8100000000000011")

    assert r.responses == ["utter_order_in_play", "utter_status_awaiting_delivery", "utter_rule_dispute_escalated"]
    open_dispute = answer(run, tracker, intent="check_order_status", entities={"order_number": "8100000000000010"})
    assert open_dispute.responses[-1] == "utter_rule_dispute_open"
    no_dispute = answer(run, tracker, intent="check_order_status", entities={"order_number": SHIPPED})
    assert not any("dispute" in name for name in no_dispute.responses)


def test_how_long_the_seller_has_after_a_cancel_answer_stays_with_the_order_in_play(run, tracker):
    # "and then how long does the seller have" after the watch strap's no-cancel-button answer: the seller's
    # time for that order, not the running shoes' pending request.
    slots = {"order_number": "8100000000000002", "customer_id": "demo", "topic": "no_cancel_button"}
    r = answer(run, tracker, intent="ask_cancellation_status", slots=slots, text="and then how long does the seller have")

    assert r.slots.get("order_number", "8100000000000002") == "8100000000000002"
    assert "utter_rule_cancel_payment_check" in r.responses
    assert "utter_choose_order" not in r.responses


def test_a_refund_question_about_a_delivered_order_offers_a_partial_refund_and_keeping_the_item(run, tracker):
    r = answer(run, tracker, intent="ask_refund", entities={"order_number": "8100000000000014"},
               text="can i keep it and get some money back?")

    assert "utter_delivered_refund_via_dispute" in r.responses
    assert "utter_rule_refund_via_dispute" not in r.responses


def test_the_seller_approved_my_cancellation_names_the_one_order_whose_cancellation_was_approved(run, tracker):
    # Four orders have a refund owed; only the bike light's cancellation was approved by the seller.
    r = answer(run, tracker, intent="ask_refund_status",
               text="the seller approved my cancellation almost a month ago and STILL no refund!!")

    assert "utter_choose_order" not in r.responses
    assert r.slots["order_number"] == "8100000000000017"
    plain = answer(run, tracker, intent="ask_refund_status", text="where is my refund")
    assert "utter_choose_order" in plain.responses


def test_and_the_first_one_goes_back_to_the_first_order_of_the_conversation(run, tracker):
    # The open dispute on ...10, then the escalated one on ...11, then "ok and the first one, can i escalate it".
    history = [{"event": "slot", "name": "order_number", "value": "8100000000000010"},
               {"event": "slot", "name": "order_number", "value": "8100000000000011"}]
    slots = {"order_number": "8100000000000011", "customer_id": "demo", "topic": "escalation"}
    r = answer(run, tracker, intent="escalate_dispute", slots=slots, history=history,
               text="ok and the first one, can i escalate it myself")

    assert r.slots["order_number"] == "8100000000000010"
    assert "utter_rule_dispute_open" in r.responses
    # one order talked about so far: "the first one" is not a way back to it
    alone = answer(run, tracker, intent="escalate_dispute", slots=slots, history=history[1:],
                   text="and the first one?")
    assert alone.slots.get("order_number", "8100000000000011") == "8100000000000011"
