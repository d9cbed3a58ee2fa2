"""Custom actions. Each reads slots, calls one `orderdesk` service, and turns the
decision into responses (named in domain.yml) and slot events.

Nothing happens at import: rasa_sdk imports this module at start-up, and the
database engine is built on the first action that needs it (`actions.store`).
"""
from __future__ import annotations

from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from orderdesk.candidates import Candidate, the_one
from orderdesk.model import BUYER_FAULT_REASONS
from orderdesk.policy import fmt
from orderdesk.services import (
    InvalidInput,
    NotYourOrder,
    OrderNotFound,
    Outcome,
    ServiceError,
    StoreUnavailable,
    normalize_order_id,
)

from orderdesk.verification import VerificationFailed, VerificationLocked

from .identity import acting_customer, channel_of, linked_customer, verified_customer, verify
from .answers import GENERAL, TOPICS, plan_answer, response_for_rule, template_vars
from .store import get_services

CANCEL_FORM_SLOTS = ("cancel_reason", "cancel_reason_label", "cancel_confirm")
DISPUTE_FORM_SLOTS = ("dispute_reason", "dispute_reason_label", "dispute_description", "refund_type",
                      "refund_amount", "dispute_confirm")
# Intents that name the problem, so the dispute form need not ask for it again.
REASON_FROM_INTENT = {"report_not_received": "not_received", "report_not_as_described": "not_as_described"}
MAX_BUTTONS = 5


def clear(*names: str) -> list[EventType]:
    return [SlotSet(n, None) for n in names]


def order_buttons(candidates: list[Candidate]) -> list[dict[str, str]]:
    """One button per order, in the order given (the ones the question is about come first)."""
    return [{"title": f"{c.order.item} ({c.order.id})",
             "payload": '/provide_order_number{"order_number":"%s"}' % c.order.id}
            for c in candidates[:MAX_BUTTONS]]


def _first_entity(tracker: Tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


class ActionAnswerQuestion(Action):
    """Answers the buyer's question for their own order; finds and verifies the order first."""

    def name(self) -> str:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        topic = intent if intent in TOPICS else (tracker.get_slot("topic") or "check_order_status")
        events: list[EventType] = [SlotSet("topic", topic)]
        try:
            return events + self._answer(dispatcher, tracker, topic)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_store_unavailable")
            return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, topic: str) -> list[EventType]:
        svc = get_services()
        channel = channel_of(tracker)
        in_form = tracker.active_loop_name is not None
        linked = linked_customer(tracker, svc)
        # Never a slot: a customer this conversation proved by email (it may be another account than the
        # linked one), else the linked one.
        customer_id = verified_customer(tracker, svc) or linked
        order_number = tracker.get_slot("order_number")
        given = _first_entity(tracker, "order_number")
        email = _first_entity(tracker, "email")
        events: list[EventType] = []
        newly_chosen = False

        if given:
            try:
                given = normalize_order_id(given)
            except InvalidInput:
                dispatcher.utter_message(response="utter_bad_order_number", order_number=given[:40])
                return events
            if given != order_number:
                order_number, newly_chosen = None, True
                if customer_id is None:
                    dispatcher.utter_message(response="utter_ask_email", order_number=given)
                    return [SlotSet("pending_order", given)]
                try:
                    svc.explain(given, customer_id=customer_id, record=False)
                    order_number = given
                except (NotYourOrder, OrderNotFound):
                    # The same words and state either way: nobody learns whether someone else's order exists.
                    dispatcher.utter_message(response="utter_not_your_order", order_number=given)
                    return [SlotSet("pending_order", given)]

        pending = tracker.get_slot("pending_order")
        # An email answers the pending order, even while another order is in play (after "not your order").
        if pending and email and not newly_chosen:
            try:
                customer_id = verify(tracker, svc, pending, email).customer_id
            except VerificationLocked as e:
                dispatcher.utter_message(response="utter_verification_locked", order_number=pending,
                                         locked_until=fmt(e.until, svc.clock()))
                return events
            except (VerificationFailed, InvalidInput):
                # An unknown order and a wrong email get the same answer and leave the same state.
                dispatcher.utter_message(response="utter_email_mismatch", order_number=pending)
                return events
            order_number, newly_chosen = pending, True
            events += [SlotSet("pending_order", None), SlotSet("customer_id", customer_id)]

        if order_number is None:
            if pending and not given:
                dispatcher.utter_message(response="utter_ask_email", order_number=pending)
                return events
            candidates = svc.orders_for_question(linked, topic) if linked else []
            the_order = the_one(topic, candidates)
            if the_order is not None:
                order_number, newly_chosen = the_order.id, True
            elif candidates:
                dispatcher.utter_message(response="utter_choose_order", buttons=order_buttons(candidates))
                return events
            elif linked:
                dispatcher.utter_message(response="utter_no_orders")
                return events
            else:
                dispatcher.utter_message(response=GENERAL.get(topic, "utter_general_status"))
                dispatcher.utter_message(response="utter_ask_order_number")
                return events

        if customer_id is None:  # an order in play, but nobody proven in this session (it expired)
            dispatcher.utter_message(response="utter_ask_email", order_number=order_number)
            return events + [SlotSet("order_number", None), SlotSet("pending_order", order_number)]
        try:
            decision = svc.explain(order_number, customer_id=customer_id, actor=f"bot:{channel}")
        except (OrderNotFound, NotYourOrder):
            dispatcher.utter_message(response="utter_not_your_order", order_number=order_number)
            return events + [SlotSet("order_number", None), SlotSet("pending_order", order_number)]

        variables = template_vars(decision)
        responses, offer, deadline = plan_answer(topic, decision)
        if newly_chosen:
            dispatcher.utter_message(response="utter_order_in_play", **variables)
        for r in responses:
            dispatcher.utter_message(response=r, **variables)
        o = decision.order
        events += [
            SlotSet("order_number", o.id),
            SlotSet("customer_id", customer_id or o.customer),
            SlotSet("order_status", o.status.value),
            SlotSet("order_amount", f"{o.amount} {o.currency}"),
            SlotSet("order_item", o.item),
            SlotSet("deadline", fmt(deadline, decision.now) if deadline else None),
        ]
        if not in_form:
            events.append(SlotSet("offer", offer))
            if offer:
                dispatcher.utter_message(response=f"utter_offer_{offer}", **variables)
            if offer == "dispute" and topic in REASON_FROM_INTENT:
                events.append(SlotSet("dispute_reason", REASON_FROM_INTENT[topic]))
        return events


def _refused(dispatcher: CollectingDispatcher, outcome: Outcome, answer_rule: str) -> None:
    variables = template_vars(outcome.decision)
    dispatcher.utter_message(response="utter_not_filed_policy", **variables)
    dispatcher.utter_message(response=response_for_rule(answer_rule), **variables)


def _acting(tracker: Tracker) -> str:
    """The acting customer for a filing; a conversation with none files nothing (the same answer as an
    order that is not theirs)."""
    customer = acting_customer(tracker, get_services())
    if customer is None:
        raise NotYourOrder("Nobody has been verified in this conversation.")
    return customer


def _service_error(dispatcher: CollectingDispatcher, err: ServiceError, order_number: Optional[str]) -> None:
    if isinstance(err, StoreUnavailable):
        dispatcher.utter_message(response="utter_store_unavailable")
    elif isinstance(err, (OrderNotFound, NotYourOrder)):
        dispatcher.utter_message(response="utter_not_your_order", order_number=order_number or "-")
    else:
        dispatcher.utter_message(text=str(err))


class ActionSubmitCancellation(Action):
    def name(self) -> str:
        return "action_submit_cancellation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset = clear(*CANCEL_FORM_SLOTS, "offer")
        order_number = tracker.get_slot("order_number")
        if not tracker.get_slot("cancel_confirm") or not order_number:
            dispatcher.utter_message(response="utter_cancellation_not_filed", order_number=order_number or "-")
            return reset
        reason = tracker.get_slot("cancel_reason") or "other"
        try:
            outcome = get_services().request_cancellation(
                order_number, reason, customer_id=_acting(tracker), channel=channel_of(tracker))
        except ServiceError as e:
            _service_error(dispatcher, e, order_number)
            return reset
        variables = template_vars(outcome.decision)
        if outcome.refused:
            _refused(dispatcher, outcome, outcome.decision.cancel.rule)
        elif not outcome.created:
            dispatcher.utter_message(response="utter_cancellation_already_filed", reference=outcome.reference,
                                     request_state=outcome.state, **variables)
        elif outcome.state == "approved":
            dispatcher.utter_message(response="utter_cancellation_done_unpaid", reference=outcome.reference,
                                     **variables)
        else:
            if reason in BUYER_FAULT_REASONS:
                dispatcher.utter_message(response="utter_cancel_reason_note_buyer_fault")
            dispatcher.utter_message(response="utter_cancellation_filed", reference=outcome.reference, **variables)
        return reset + [SlotSet("order_status", outcome.decision.status.value)]


class ActionSubmitDispute(Action):
    def name(self) -> str:
        return "action_submit_dispute"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset = clear(*DISPUTE_FORM_SLOTS, "offer")
        order_number = tracker.get_slot("order_number")
        if not tracker.get_slot("dispute_confirm") or not order_number:
            dispatcher.utter_message(response="utter_dispute_not_filed", dispute_until=tracker.get_slot("deadline")
                                     or "the end of buyer protection")
            return reset
        try:
            outcome = get_services().open_dispute(
                order_number, reason=tracker.get_slot("dispute_reason") or "not_as_described",
                description=tracker.get_slot("dispute_description") or "",
                refund=tracker.get_slot("refund_type") or "full", amount=tracker.get_slot("refund_amount"),
                customer_id=_acting(tracker), channel=channel_of(tracker))
        except ServiceError as e:
            _service_error(dispatcher, e, order_number)
            return reset
        variables = template_vars(outcome.decision)
        if outcome.refused:
            _refused(dispatcher, outcome, outcome.decision.dispute.rule)
        elif not outcome.created:
            dispatcher.utter_message(response="utter_dispute_already_filed", reference=outcome.reference,
                                     request_state=outcome.state, **variables)
        else:
            dispatcher.utter_message(response="utter_dispute_filed", reference=outcome.reference, **variables)
        return reset + [SlotSet("order_status", outcome.decision.status.value)]


class ActionEscalateDispute(Action):
    def name(self) -> str:
        return "action_escalate_dispute"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        order_number = tracker.get_slot("order_number")
        events = clear("offer")
        if not order_number:
            dispatcher.utter_message(response="utter_ask_order_number")
            return events
        try:
            outcome = get_services().escalate_dispute(order_number, customer_id=_acting(tracker),
                                                      channel=channel_of(tracker))
        except ServiceError as e:
            _service_error(dispatcher, e, order_number)
            return events
        if outcome.refused:
            _refused(dispatcher, outcome, outcome.decision.dispute.rule)
        elif outcome.created:
            dispatcher.utter_message(response="utter_escalated", reference=outcome.reference)
        else:
            dispatcher.utter_message(response="utter_already_escalated", reference=outcome.reference)
        return events


class ActionDeclineOffer(Action):
    def name(self) -> str:
        return "action_decline_offer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        offer = tracker.get_slot("offer")
        if offer == "cancel":
            dispatcher.utter_message(response="utter_cancellation_not_filed",
                                     order_number=tracker.get_slot("order_number") or "-")
        elif offer == "dispute":
            dispatcher.utter_message(response="utter_dispute_not_filed",
                                     dispute_until=tracker.get_slot("deadline") or "the end of buyer protection")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return clear("offer", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS)


class ActionStopForm(Action):
    def name(self) -> str:
        return "action_stop_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        return clear("offer", "requested_slot", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS)


class ActionHumanHandoff(Action):
    """Records a handoff request with the conversation so far, and tells the buyer its reference."""

    def name(self) -> str:
        return "action_human_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        lines = []
        for e in tracker.events:
            if e.get("event") == "user" and e.get("text"):
                lines.append(f"buyer: {e['text']}")
            elif e.get("event") == "bot" and e.get("text"):
                lines.append(f"bot: {e['text']}")
        try:
            ref = get_services().record_handoff(
                channel=channel_of(tracker), sender_id=tracker.sender_id, transcript="\n".join(lines),
                customer_id=acting_customer(tracker, get_services()), order_id=tracker.get_slot("order_number"))
        except ServiceError:
            dispatcher.utter_message(response="utter_store_unavailable")
            return clear("offer")
        dispatcher.utter_message(response="utter_handoff", handoff_reference=ref)
        return clear("offer")
