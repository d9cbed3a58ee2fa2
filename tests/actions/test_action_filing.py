"""Actions that change the store: cancellation, dispute, escalation, handoff, and a store that is down.

Each runs against a fresh SQLite store with the demo data (fixed clock: Sun 22 Nov 2026, 12:00 UTC),
and the tests read the rows back to check what was (and was not) written.
"""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError

from actions.actions import (
    CANCEL_FORM_SLOTS,
    DISPUTE_FORM_SLOTS,
    ActionAnswerQuestion,
    ActionDeclineOffer,
    ActionEscalateDispute,
    ActionHumanHandoff,
    ActionStopForm,
    ActionSubmitCancellation,
    ActionSubmitDispute,
)
from actions.store import use_services
from botkit import NOW, OTHERS_ORDER, bot_event, rendering_problems, run_action, user_event
from orderdesk import db
from orderdesk.repository import UnitOfWork
from orderdesk.services import Services
from actions.answers import template_vars

UNPAID = "8100000000000001"
AWAITING_SHIPMENT = "8100000000000003"
PENDING_CANCELLATION = "8100000000000004"
SHIPPED = "8100000000000005"
OPEN_DISPUTE = "8100000000000010"
AUTO_ESCALATED = "8100000000000011"


def cancel_slots(oid: str, reason: str = "no_contact", confirm=True, **more):
    return {"order_number": oid, "customer_id": "demo", "cancel_reason": reason,
            "cancel_reason_label": "label", "cancel_confirm": confirm, "offer": "cancel", **more}


def dispute_slots(oid: str, confirm=True, **more):
    slots = {"order_number": oid, "customer_id": "demo", "order_amount": "19.50 USD", "order_item": "Bluetooth speaker",
             "dispute_reason": "not_as_described", "dispute_reason_label": "The item does not match its description",
             "dispute_description": "The speaker is blue, the listing showed black.", "refund_type": "full",
             "refund_amount": "19.50 USD", "dispute_confirm": confirm, "offer": "dispute"}
    slots.update(more)
    return slots


def cleared(result, *names) -> bool:
    return all(result.slots.get(n, "missing") is None for n in names)


# --------------------------------------------------------------------------- cancellation

def test_a_double_click_on_confirm_files_one_cancellation_request(run, tracker, rows):
    first = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(AWAITING_SHIPMENT)))
    second = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(AWAITING_SHIPMENT)))

    assert first.responses == ["utter_cancellation_filed"]
    filed = first.kwargs("utter_cancellation_filed")
    assert filed["reference"] == f"CXL-{AWAITING_SHIPMENT}"
    assert filed["seller_answer_by"] == "Wed 25 Nov, 12:00 UTC"  # NOW + 72 hours
    assert filed["destination_text"] == "back to the card you paid with"

    assert second.responses == ["utter_cancellation_already_filed"]
    again = second.kwargs("utter_cancellation_already_filed")
    assert again["reference"] == filed["reference"]
    assert again["request_state"] == "pending"

    requests = rows(db.cancellation_requests, db.cancellation_requests.c.order_id == AWAITING_SHIPMENT)
    assert len(requests) == 1
    assert requests[0]["state"] == "pending"
    assert requests[0]["reason"] == "no_contact"
    assert requests[0]["channel"] == "rest"
    assert requests[0]["requested_at"] == NOW
    for r in (first, second):
        assert cleared(r, *CANCEL_FORM_SLOTS, "offer")
        assert r.slots["order_status"] == "awaiting_shipment"


def test_a_cancellation_for_the_buyers_own_mistake_notes_the_seller_is_not_penalised(run, tracker):
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(AWAITING_SHIPMENT,
                                                                                   "wrong_product")))

    assert r.responses == ["utter_cancel_reason_note_buyer_fault", "utter_cancellation_filed"]


def test_a_request_already_waiting_for_the_seller_is_not_filed_again(run, tracker, count):
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(PENDING_CANCELLATION)))

    assert r.responses == ["utter_cancellation_already_filed"]
    assert r.kwargs("utter_cancellation_already_filed")["request_state"] == "pending"
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == PENDING_CANCELLATION) == 1


@pytest.mark.parametrize("confirm", [False, None])
def test_without_a_yes_no_cancellation_is_filed(run, tracker, count, confirm):
    before = count(db.cancellation_requests)
    r = run(ActionSubmitCancellation(), tracker(intent="deny", slots=cancel_slots(AWAITING_SHIPMENT, confirm=confirm)))

    assert r.responses == ["utter_cancellation_not_filed"]
    assert r.kwargs("utter_cancellation_not_filed") == {"order_number": AWAITING_SHIPMENT}
    assert count(db.cancellation_requests) == before
    assert cleared(r, *CANCEL_FORM_SLOTS, "offer")
    # a form called off is not asked again: the bot waits for the buyer
    assert {"event": "followup", "name": "action_listen"} in [{k: e.get(k) for k in ("event", "name")} for e in r.events]


def test_without_an_order_in_play_no_cancellation_is_filed(run, tracker, count):
    before = count(db.cancellation_requests)
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots={"cancel_confirm": True}))

    assert r.responses == ["utter_cancellation_not_filed"]
    assert count(db.cancellation_requests) == before


def test_a_shipped_order_is_refused_with_the_policys_reason(run, tracker, count, rows):
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(SHIPPED)))

    assert r.responses == ["utter_not_filed_policy", "utter_rule_cancel_shipped"]
    said = r.kwargs("utter_rule_cancel_shipped")
    assert said["shipped_at"] == "Tue 17 Nov, 12:00 UTC"
    assert said["delivery_window_ends"] == "Sat 16 Jan 2027, 12:00 UTC"  # the year shows: not this year
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == SHIPPED) == 0
    refusals = rows(db.audit_log, db.audit_log.c.order_id == SHIPPED, db.audit_log.c.kind == "request")
    assert [a["rule"] for a in refusals] == ["cancel.shipped"]


def test_an_unpaid_order_is_cancelled_at_once(run, tracker, rows):
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(UNPAID)))

    assert r.responses == ["utter_cancellation_done_unpaid"]
    assert r.kwargs("utter_cancellation_done_unpaid")["reference"] == f"CXL-{UNPAID}"
    assert r.slots["order_status"] == "closed"
    order = rows(db.orders, db.orders.c.id == UNPAID)[0]
    assert order["status"] == "closed" and order["closed_reason"] == "buyer_cancelled" and order["closed_at"] == NOW
    assert rows(db.cancellation_requests, db.cancellation_requests.c.order_id == UNPAID)[0]["state"] == "approved"
    assert rows(db.refunds, db.refunds.c.order_id == UNPAID) == []  # nothing was paid


def test_another_customers_order_cannot_be_cancelled_through_the_slots(run, tracker, count):
    r = run(ActionSubmitCancellation(), tracker(intent="affirm", slots=cancel_slots(OTHERS_ORDER)))

    assert r.responses == ["utter_not_your_order"]
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == OTHERS_ORDER) == 0


# --------------------------------------------------------------------------- dispute

def test_a_partial_refund_dispute_is_filed_with_that_amount_and_only_once(run, tracker, rows):
    slots = dispute_slots(SHIPPED, refund_type="partial", refund_amount="7.50")
    first = run(ActionSubmitDispute(), tracker(intent="affirm", slots=slots))
    second = run(ActionSubmitDispute(), tracker(intent="affirm", slots=slots))

    assert first.responses == ["utter_dispute_filed"]
    filed = first.kwargs("utter_dispute_filed")
    assert filed["reference"] == f"DSP-{SHIPPED}"
    assert filed["escalates_at"] == "Tue 8 Dec, 12:00 UTC"  # NOW + 16 days
    assert second.responses == ["utter_dispute_already_filed"]
    assert second.kwargs("utter_dispute_already_filed")["reference"] == filed["reference"]
    assert second.kwargs("utter_dispute_already_filed")["request_state"] == "open"

    disputes = rows(db.disputes, db.disputes.c.order_id == SHIPPED)
    assert len(disputes) == 1
    d = disputes[0]
    assert (d["refund"], d["amount"], d["state"]) == ("partial", Decimal("7.50"), "open")
    assert d["reason"] == "not_as_described"
    assert d["description"] == "The speaker is blue, the listing showed black."
    assert d["opened_at"] == NOW and d["channel"] == "rest"
    for r in (first, second):
        assert cleared(r, *DISPUTE_FORM_SLOTS, "offer")


def test_a_full_refund_dispute_asks_for_the_order_amount(run, tracker, rows):
    r = run(ActionSubmitDispute(), tracker(intent="affirm", slots=dispute_slots(SHIPPED)))

    assert r.responses == ["utter_dispute_filed"]
    d = rows(db.disputes, db.disputes.c.order_id == SHIPPED)[0]
    assert (d["refund"], d["amount"]) == ("full", Decimal("19.50"))


def test_a_dispute_on_an_order_that_has_not_shipped_is_refused(run, tracker, count):
    r = run(ActionSubmitDispute(), tracker(intent="affirm", slots=dispute_slots(AWAITING_SHIPMENT)))

    assert r.responses == ["utter_not_filed_policy", "utter_rule_dispute_not_shipped"]
    assert count(db.disputes, db.disputes.c.order_id == AWAITING_SHIPMENT) == 0


def protection_end(svc, oid: str) -> str:
    return template_vars(svc.explain(oid, customer_id="demo", record=False))["dispute_until"]


def test_without_a_yes_no_dispute_is_opened_and_the_buyer_hears_until_when_they_can(run, tracker, count, svc):
    before = count(db.disputes)
    slots = dispute_slots(SHIPPED, confirm=False, deadline="Sun 31 Jan 2027, 12:00 UTC")
    r = run(ActionSubmitDispute(), tracker(intent="deny", slots=slots))

    assert r.responses == ["utter_dispute_not_filed"]
    assert r.kwargs("utter_dispute_not_filed") == {"dispute_until": protection_end(svc, SHIPPED)}
    assert count(db.disputes) == before
    assert {"event": "followup", "name": "action_listen"} in [{k: e.get(k) for k in ("event", "name")} for e in r.events]


def test_not_now_to_a_dispute_offer_names_the_end_of_buyer_protection_not_the_delivery_window(run, tracker, svc):
    answered = run(ActionAnswerQuestion(), tracker(intent="report_not_received", text="my speaker hasn't come",
                                                   slots={"customer_id": "demo", "order_number": SHIPPED}))
    assert answered.slots["offer"] == "dispute"
    window_end = answered.slots["deadline"]  # what the answer turned on: the delivery window's end

    r = run(ActionDeclineOffer(), tracker(intent="deny", slots={"customer_id": "demo", "order_number": SHIPPED,
                                                                "offer": "dispute", "deadline": window_end}))

    assert r.kwargs("utter_dispute_not_filed") == {"dispute_until": protection_end(svc, SHIPPED)}
    assert r.kwargs("utter_dispute_not_filed")["dispute_until"] != window_end


def test_without_an_order_the_not_filed_answer_falls_back_to_the_deadline_slot(run, tracker):
    r = run(ActionSubmitDispute(), tracker(intent="deny", slots={"deadline": "Sun 31 Jan 2027, 12:00 UTC"}))

    assert r.kwargs("utter_dispute_not_filed") == {"dispute_until": "Sun 31 Jan 2027, 12:00 UTC"}


def test_an_existing_dispute_is_reported_not_duplicated(run, tracker, count):
    r = run(ActionSubmitDispute(), tracker(intent="affirm", slots=dispute_slots(OPEN_DISPUTE)))

    assert r.responses == ["utter_dispute_already_filed"]
    assert count(db.disputes, db.disputes.c.order_id == OPEN_DISPUTE) == 1


# --------------------------------------------------------------------------- escalation

def test_an_open_dispute_is_escalated_once(run, tracker, rows):
    slots = {"order_number": OPEN_DISPUTE, "customer_id": "demo", "offer": "escalate"}
    first = run(ActionEscalateDispute(), tracker(intent="affirm", slots=slots))
    second = run(ActionEscalateDispute(), tracker(intent="affirm", slots=slots))

    assert first.responses == ["utter_escalated"]
    assert first.kwargs("utter_escalated") == {"reference": f"DSP-{OPEN_DISPUTE}"}
    assert second.responses == ["utter_already_escalated"]
    assert second.kwargs("utter_already_escalated") == {"reference": f"DSP-{OPEN_DISPUTE}"}
    d = rows(db.disputes, db.disputes.c.order_id == OPEN_DISPUTE)[0]
    assert (d["state"], d["escalated_at"], d["escalated_by"]) == ("escalated", NOW, "buyer")
    escalations = [a for a in rows(db.audit_log, db.audit_log.c.order_id == OPEN_DISPUTE)
                   if '"escalation"' in a["detail"]]
    assert len(escalations) == 1
    assert first.slots == second.slots == {"offer": None}


def test_naming_another_order_while_escalation_is_offered_escalates_nothing(run, tracker, rows):
    slots = {"order_number": OPEN_DISPUTE, "customer_id": "demo", "offer": "escalate"}
    r = run(ActionEscalateDispute(), tracker(intent="escalate_dispute", slots=slots,
                                             entities={"order_number": AUTO_ESCALATED}))

    assert "utter_escalated" not in r.responses and r.responses
    assert rows(db.disputes, db.disputes.c.order_id == OPEN_DISPUTE)[0]["state"] == "open"
    assert r.slots.get("order_number") == AUTO_ESCALATED


@pytest.mark.parametrize("text", ["ok ill wait", "I'll just wait", "not yet"])
def test_saying_you_will_wait_to_an_escalation_offer_escalates_nothing(run, tracker, rows, text):
    slots = {"order_number": OPEN_DISPUTE, "customer_id": "demo", "offer": "escalate"}
    r = run(ActionEscalateDispute(), tracker(intent="affirm", text=text, slots=slots))

    assert "utter_escalated" not in r.responses and r.slots.get("offer", "x") is None
    assert rows(db.disputes, db.disputes.c.order_id == OPEN_DISPUTE)[0]["state"] == "open"


def test_a_yes_that_mentions_the_seller_not_answering_yet_still_escalates(run, tracker):
    slots = {"order_number": OPEN_DISPUTE, "customer_id": "demo", "offer": "escalate"}
    r = run(ActionEscalateDispute(), tracker(intent="affirm", text="yes, the seller has not yet answered", slots=slots))

    assert r.responses == ["utter_escalated"]


def test_a_dispute_the_platform_already_took_over_is_reported_as_escalated(run, tracker):
    r = run(ActionEscalateDispute(), tracker(intent="escalate_dispute",
                                             slots={"order_number": AUTO_ESCALATED, "customer_id": "demo"}))

    assert r.responses == ["utter_already_escalated"]


def test_there_is_nothing_to_escalate_without_a_dispute(run, tracker):
    r = run(ActionEscalateDispute(), tracker(intent="escalate_dispute",
                                             slots={"order_number": SHIPPED, "customer_id": "demo"}))

    assert r.responses == ["utter_not_filed_policy", "utter_rule_dispute_in_transit"]


def test_escalating_without_an_order_asks_for_the_order_number(run, tracker):
    r = run(ActionEscalateDispute(), tracker(intent="escalate_dispute"))

    assert r.responses == ["utter_ask_order_number"]


# --------------------------------------------------------------------------- declining and stopping

@pytest.mark.parametrize("offer, response", [("cancel", "utter_cancellation_not_filed"),
                                             ("dispute", "utter_dispute_not_filed"),
                                             (None, "utter_anything_else")])
def test_declining_an_offer_files_nothing_and_forgets_the_offer(run, tracker, count, offer, response):
    before = count(db.cancellation_requests), count(db.disputes)
    r = run(ActionDeclineOffer(), tracker(intent="deny", slots={"offer": offer, "order_number": AWAITING_SHIPMENT}))

    assert r.responses == [response]
    assert (count(db.cancellation_requests), count(db.disputes)) == before
    assert cleared(r, "offer", *CANCEL_FORM_SLOTS, *DISPUTE_FORM_SLOTS)


def test_declining_in_the_middle_of_the_form_ends_the_form_and_waits(run, tracker, count):
    before = count(db.cancellation_requests)
    r = run(ActionDeclineOffer(), tracker(intent="deny", text="actually no ill keep it", active_loop="cancel_form",
                                          slots={"offer": "cancel", "order_number": AWAITING_SHIPMENT,
                                                 "requested_slot": "cancel_reason"}))

    assert r.responses == ["utter_cancellation_not_filed"] and count(db.cancellation_requests) == before
    kinds = [(e.get("event"), e.get("name")) for e in r.events]
    assert ("active_loop", None) in kinds and ("followup", "action_listen") in kinds


def test_stopping_a_form_clears_what_it_collected(run, tracker):
    r = run(ActionStopForm(), tracker(intent="stop", active_loop="cancel_form",
                                      slots={"cancel_reason": "other", "requested_slot": "cancel_confirm"}))

    assert r.responses == ["utter_form_stopped"]
    assert cleared(r, "offer", "requested_slot", *CANCEL_FORM_SLOTS, *DISPUTE_FORM_SLOTS)


# --------------------------------------------------------------------------- handoff

def test_a_handoff_is_recorded_with_the_transcript_and_its_reference_is_given(run, tracker, rows):
    history = [user_event("I want to cancel 8100000000000003"), bot_event("Shall I file a cancellation request?"),
               {"event": "bot", "text": None}, {"event": "slot", "name": "offer", "value": "cancel"}]
    trk = tracker(intent="human_handoff", text="talk to a person", history=history,
                  slots={"customer_id": "demo", "order_number": AWAITING_SHIPMENT})
    r = run(ActionHumanHandoff(), trk)

    assert r.responses == ["utter_handoff"]
    ref = r.kwargs("utter_handoff")["handoff_reference"]
    assert ref.startswith("HND-20261122-")
    handoffs = rows(db.handoff_requests)
    assert len(handoffs) == 1
    h = handoffs[0]
    assert h["reference"] == ref
    assert (h["channel"], h["sender_id"], h["customer_id"], h["order_id"], h["state"]) == (
        "rest", "demo", "demo", AWAITING_SHIPMENT, "open")
    # what an agent needs at a glance first: the order in play and what the buyer wants
    assert h["transcript"] == ("order: 8100000000000003 (LED desk lamp), awaiting_shipment\n"
                               "buyer wants: -\n"
                               "---\n"
                               "buyer: I want to cancel 8100000000000003\n"
                               "bot: Shall I file a cancellation request?\n"
                               "buyer: talk to a person")
    assert h["created_at"] == NOW
    assert r.slots["offer"] is None and r.slots["handoff_ref"] == ref  # the handoff form relays from here


def test_a_handoff_from_an_unknown_sender_without_an_order_is_still_recorded(run, tracker, rows):
    r = run(ActionHumanHandoff(), tracker(sender_id="stranger-42", intent="human_handoff", text="human please"))

    assert r.responses == ["utter_handoff"]
    h = rows(db.handoff_requests)[0]
    assert (h["sender_id"], h["customer_id"], h["order_id"]) == ("stranger-42", None, None)


# --------------------------------------------------------------------------- the store is down

def _refused_connection():
    return Services(uow=lambda: UnitOfWork(db.make_engine("postgresql://postgres@127.0.0.1:1/nothing")),
                    clock=lambda: NOW)


def _uow_that_fails():
    def broken():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    return Services(uow=broken, clock=lambda: NOW)


STORE_DOWN = {"no server listening": _refused_connection, "connection lost": _uow_that_fails}

EVERY_STORE_ACTION = [
    (ActionAnswerQuestion(), dict(intent="check_order_status", entities={"order_number": AWAITING_SHIPMENT})),
    (ActionAnswerQuestion(), dict(sender_id="stranger-42", intent="provide_email",
                                  slots={"pending_order": AWAITING_SHIPMENT}, entities={"email": "a@b.c"})),
    (ActionSubmitCancellation(), dict(intent="affirm", slots=cancel_slots(AWAITING_SHIPMENT))),
    (ActionSubmitDispute(), dict(intent="affirm", slots=dispute_slots(SHIPPED))),
    (ActionEscalateDispute(), dict(intent="affirm", slots={"order_number": OPEN_DISPUTE, "customer_id": "demo"})),
    (ActionHumanHandoff(), dict(intent="human_handoff", text="a person please")),
]


@pytest.fixture
def no_services():
    use_services(None)
    yield
    use_services(None)


@pytest.mark.parametrize("down", list(STORE_DOWN), ids=list(STORE_DOWN))
@pytest.mark.parametrize("action, kw", EVERY_STORE_ACTION, ids=lambda p: p.name() if hasattr(p, "name") else None)
def test_a_store_that_is_down_gets_an_apology_and_no_exception(tracker, domain, no_services, down, action, kw):
    use_services(STORE_DOWN[down]())
    r = run_action(action, tracker(**kw), domain)

    assert r.responses == ["utter_store_unavailable"]
    assert rendering_problems(r, domain) == []
    assert not {"order_number", "customer_id", "order_status"} & {k for k, v in r.slots.items() if v is not None}


def test_when_the_default_store_cannot_be_reached_the_actions_apologise_and_try_again_next_time(
        tracker, domain, no_services, monkeypatch):
    monkeypatch.setenv("ORDERDESK_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/nothing")
    monkeypatch.setattr(db, "_engines", {})  # the engine built here is not left in the process-wide cache

    for _ in range(2):  # not cached: each action tries again
        r = run_action(ActionAnswerQuestion(), tracker(intent="check_order_status"), domain)
        assert r.responses == ["utter_store_unavailable"]
    r = run_action(ActionHumanHandoff(), tracker(intent="human_handoff"), domain)
    assert r.responses == ["utter_store_unavailable"]
    for engine in db._engines.values():
        engine.dispose()
