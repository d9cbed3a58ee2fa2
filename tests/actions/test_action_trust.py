"""Who may act: the actions take the customer from the channel's stamp or from this conversation's
verification record (order number + email, this session, 30 minutes idle), never from a slot; and the
email check locks after five failures."""
from __future__ import annotations

from actions.actions import (
    ActionAnswerQuestion,
    ActionEscalateDispute,
    ActionHumanHandoff,
    ActionSubmitCancellation,
    ActionSubmitDispute,
)
from botkit import DEMO_EMAIL, NOW
from orderdesk import db

AWAITING_SHIPMENT = "8100000000000003"
OPEN_DISPUTE = "8100000000000010"
SHIPPED = "8100000000000005"
STRANGER = "stranger-77"

# What an attacker would post to the action server's webhook: someone else's order, a customer id of their
# choosing (or none), and a confirmation.
FORGED = {"order_number": AWAITING_SHIPMENT, "customer_id": "demo", "cancel_confirm": True,
          "cancel_reason": "no_contact"}


def test_a_customer_id_slot_does_not_make_a_stranger_the_customer(run, tracker, count):
    for customer in ("demo", None):
        r = run(ActionSubmitCancellation(), tracker(sender_id=STRANGER, slots={**FORGED, "customer_id": customer}))
        assert "utter_not_your_order" in r.responses
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == AWAITING_SHIPMENT) == 0


def test_an_unstamped_message_files_nothing_even_from_the_linked_sender_id(run, tracker, count):
    r = run(ActionSubmitCancellation(), tracker(slots=FORGED, channel=None))
    assert "utter_not_your_order" in r.responses
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == AWAITING_SHIPMENT) == 0


def test_forged_disputes_and_escalations_are_refused_too(run, tracker, count):
    before = count(db.disputes)
    r = run(ActionSubmitDispute(), tracker(sender_id=STRANGER, slots={
        "order_number": SHIPPED, "customer_id": "demo", "dispute_confirm": True, "dispute_reason": "not_received",
        "refund_type": "full", "dispute_description": "never came"}))
    assert "utter_not_your_order" in r.responses
    r = run(ActionEscalateDispute(), tracker(sender_id=STRANGER, slots={"order_number": OPEN_DISPUTE,
                                                                        "customer_id": "demo"}))
    assert "utter_not_your_order" in r.responses
    assert count(db.disputes) == before
    assert count(db.audit_log, db.audit_log.c.kind == "request") == 0  # no filing, no escalation


def test_a_customer_id_slot_does_not_show_a_stranger_the_order(run, tracker):
    r = run(ActionAnswerQuestion(), tracker(sender_id=STRANGER, slots={"customer_id": "demo",
                                                                       "order_number": AWAITING_SHIPMENT}))
    assert r.responses == ["utter_ask_email"]
    assert r.slots["order_number"] is None and "order_status" not in r.slots


def verify(run, tracker, email=DEMO_EMAIL, **kw):
    return run(ActionAnswerQuestion(), tracker(sender_id=STRANGER, intent="provide_email",
                                               slots={"topic": "cancel", "pending_order": AWAITING_SHIPMENT},
                                               entities={"email": email}, **kw))


def test_a_verified_stranger_stays_verified_in_the_session_and_can_file(run, tracker, count):
    r = verify(run, tracker)
    assert "utter_order_in_play" in r.responses
    # A later turn of the same session: no slot says who they are, the verification record does.
    r = run(ActionSubmitCancellation(), tracker(sender_id=STRANGER, slots={**FORGED, "customer_id": None}))
    assert "utter_cancellation_filed" in r.responses
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == AWAITING_SHIPMENT) == 1


def test_a_new_session_asks_for_the_email_again(run, tracker, count):
    verify(run, tracker)
    later = NOW.timestamp() + 3600
    r = run(ActionAnswerQuestion(), tracker(sender_id=STRANGER, slots={"order_number": AWAITING_SHIPMENT},
                                            session=later))
    assert r.responses == ["utter_ask_email"]
    r = run(ActionSubmitCancellation(), tracker(sender_id=STRANGER, slots=FORGED, session=later))
    assert "utter_not_your_order" in r.responses
    assert count(db.cancellation_requests, db.cancellation_requests.c.order_id == AWAITING_SHIPMENT) == 0


def test_the_verification_belongs_to_the_conversation_not_to_the_order(run, tracker):
    verify(run, tracker)
    r = run(ActionAnswerQuestion(), tracker(sender_id="stranger-other", slots={"order_number": AWAITING_SHIPMENT}))
    assert r.responses == ["utter_ask_email"]


def test_five_wrong_emails_lock_the_check_and_the_bot_says_so(run, tracker):
    for i in range(5):
        assert verify(run, tracker, email=f"guess{i}@example.com").responses == ["utter_email_mismatch"]
    r = verify(run, tracker)  # the right email, too late
    assert r.responses == ["utter_verification_locked"]
    assert r.kwargs("utter_verification_locked")["locked_until"] == "Sun 22 Nov, 13:00 UTC"
    assert "customer_id" not in r.slots and "order_number" not in r.slots
    # another sender trying the same order is locked out as well
    r = run(ActionAnswerQuestion(), tracker(sender_id="someone-else", intent="provide_email",
                                            slots={"pending_order": AWAITING_SHIPMENT}, entities={"email": DEMO_EMAIL}))
    assert r.responses == ["utter_verification_locked"]


def test_a_handoff_from_a_stranger_records_no_customer_even_with_a_customer_id_slot(run, tracker, rows):
    run(ActionHumanHandoff(), tracker(sender_id=STRANGER, slots={"customer_id": "demo"}))
    assert [r["customer_id"] for r in rows(db.handoff_requests)] == [None]
