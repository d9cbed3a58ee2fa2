"""Custom actions. Each reads slots, calls one `orderdesk` service, and turns the
decision into responses (named in domain.yml) and slot events.

Nothing happens at import: rasa_sdk imports this module at start-up, and the
database engine is built on the first action that needs it (`actions.store`).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from orderdesk.candidates import Candidate, items_named, named_by_state, the_one
from orderdesk.model import BUYER_FAULT_REASONS
from orderdesk.nlp.cues import about_silence, changed_mind, just_thanks, sounds_angry, waited_long
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
from orderdesk import wording
from orderdesk.wording import dispute_reason_label, fmt

from orderdesk.topics import topic as topic_named

from .answers import SILENCE_FOLLOWUP, config_vars, plan_answer, plan_followup, rule_response, template_vars
from .forms import DISPUTE_REFUND_AMOUNT, NOT_ARRIVED
from .identity import acting_customer, channel_of, linked_customer, verified_customer, verify
from .store import get_services
from .topics import ASKED, CLARIFY, FOLLOWUPS, general_response, in_slot, title, topic_of

CANCEL_FORM_SLOTS = ("cancel_reason", "cancel_reason_label", "cancel_confirm")
DISPUTE_FORM_SLOTS = ("dispute_reason", "dispute_reason_label", "dispute_description", "refund_type",
                      "refund_amount", "dispute_confirm")
MAX_BUTTONS = 5
MORE_ORDERS = "utter_text_more_orders"  # the button's title (a phrase in domain.yml)
# An order number as buyers write it: "8100 0000 0000 0003", "#8100-0000-0000-0003", "no.8100000000000003".
ORDER_IN_TEXT = re.compile(r"(?<!\w)#?(\d(?:[ \-.]?\d){11,18})(?!\w)")
EMAIL_IN_TEXT = re.compile(r"[^@\s,;:()<>]+@[^@\s,;:()<>]+\.[a-zA-Z]{2,}")


def clear(*names: str) -> list[EventType]:
    return [SlotSet(n, None) for n in names]


def _order_button(c: Candidate) -> dict[str, str]:
    return {"title": wording.phrase("utter_text_order_button", item=c.order.item, order_number=c.order.id),
            "payload": '/provide_order_number{"order_number":"%s"}' % c.order.id}


def order_buttons(candidates: list[Candidate], page: int = 1) -> list[dict[str, str]]:
    """One button per order, in the order given (the ones the question is about come first); when
    they don't fit in five, four and a "More orders" button for the next ones."""
    if page == 1 and len(candidates) <= MAX_BUTTONS:
        return [_order_button(c) for c in candidates]
    per = MAX_BUTTONS - 1
    shown = candidates[(page - 1) * per: page * per]
    buttons = [_order_button(c) for c in shown]
    if len(candidates) > page * per:
        buttons.append({"title": wording.text(MORE_ORDERS),
                        "payload": '/provide_order_number{"order_page":"%d"}' % (page + 1)})
    return buttons


def _first_entity(tracker: Tracker, name: str) -> Optional[str]:
    return next(tracker.get_latest_entity_values(name), None)


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def order_number_in(tracker: Tracker) -> Optional[str]:
    """The order number the latest message names: one written with spaces, dashes, '#' or
    "order no." first (normalised), else the extracted entity (checked by the caller)."""
    for m in ORDER_IN_TEXT.finditer(_text(tracker)):
        digits = re.sub(r"\D", "", m.group(1))
        if 12 <= len(digits) <= 19:
            return digits
    return _first_entity(tracker, "order_number")


# "and the first one?", "back to the other order": an order talked about earlier in this conversation.
EARLIER_ORDER = re.compile(r"\bthe (first|other|previous|earlier) (one|order|dispute)\b", re.IGNORECASE)


def earlier_order(tracker: Tracker) -> Optional[str]:
    """The order an "and the first one / the other one" points back to: the first order of the conversation,
    or the one before the order in play. None when the message names none, or when fewer than two orders
    were talked about (then "the first one" is about something else, like the first of the offered orders)."""
    m = EARLIER_ORDER.search(_text(tracker))
    if m is None:
        return None
    seen: list[str] = []
    for e in tracker.events:
        value = e.get("value") if e.get("event") == "slot" and e.get("name") == "order_number" else None
        if value and value not in seen:
            seen.append(str(value))
    current = tracker.get_slot("order_number")
    earlier = [oid for oid in seen if oid != current]
    if len(seen) < 2 or not earlier:
        return None
    return earlier[0] if m.group(1).lower() == "first" else earlier[-1]


def email_in(tracker: Tracker) -> Optional[str]:
    found = _first_entity(tracker, "email")
    if found:
        return found
    m = EMAIL_IN_TEXT.search(_text(tracker))
    return m.group(0) if m else None


# Several questions in one message (issue 8, point 6): the classifier names one; these cues find
# the others, which are offered as buttons after the answer. Question forms only, so a report
# ("the seller cancelled it") is not taken for a request.
SECOND_QUESTIONS = (
    (re.compile(r"\b(can|could|may|how (do|can|could)|want to|like to|need to|should) (i|we)?\s*cancel", re.I),
     "cancel"),
    (re.compile(r"\bwhere (does|will|would) (the|my) (refund|money) go\b", re.I), "refund_destination"),
    (re.compile(r"\b(where|when)\b[^?.!]*\b(refund|my money)\b|\brefund status\b", re.I), "refund_status"),
    (re.compile(r"\b(can|could|how (do|can|could)|want to|like to|need to) (i|we)?\s*(return|send (it|them) back)", re.I),
     "return"),
    (re.compile(r"\b(can|could|how (do|can|could)|want to|like to|should) (i|we)?\s*(open|start|file) a dispute", re.I),
     "dispute"),
)
CLAUSES = re.compile(r"[?.!;]+|\balso\b|\band\b|,", re.I)


def other_questions(text: str, answered: str) -> list[str]:
    """Questions the message asks besides the one answered (topics, at most two; one per answer they
    turn on)."""
    clauses = [c for c in CLAUSES.split(text) if c and c.strip()]
    if len(clauses) < 2:
        return []
    seen, out = {topic_named(answered).about}, []
    for pattern, key in SECOND_QUESTIONS:
        if pattern.search(text) and topic_named(key).about not in seen:
            seen.add(topic_named(key).about)
            out.append(key)
    return out[:2]


# The question a message gives with its order number or email ("refund for 81..., my email is ...")
# when the classifier took it for the number or the email alone.
TOPIC_WORDS = (
    (re.compile(r"\bwhere (does|will|would) (the|my) (refund|money) go\b", re.I), "refund_destination"),
    (re.compile(r"\b(refund|money back|my money)\b", re.I), "refund_status"),
    # "full or partial, can i choose": how much comes back
    (re.compile(r"\b(full|partial|part of (it|the money)|all of it|everything back)\b", re.I), "refund"),
    (re.compile(r"\bcancel", re.I), "cancel"),
    (re.compile(r"\b(return|send (it|them) back)\b", re.I), "return"),
    (re.compile(r"\bdispute", re.I), "dispute"),
    (re.compile(r"\b(never (came|arrived)|(hasn'?t|not|didn'?t) (arrive|arrived|come|came)|where is my (parcel|package))",
                re.I), "not_received"),
    # "when is my bluetooth speaker arriving": where the order is
    (re.compile(r"\b(when|where)\b[^?.!]*\b(arriv\w*|coming|get here|delivered|ship\w*|eta)\b|\beta\b", re.I),
     "status"),
)


def topic_from_words(text: str) -> Optional[str]:
    return next((key for pattern, key in TOPIC_WORDS if pattern.search(text or "")), None)


def _keep_followup(followup: Optional[str]) -> list[EventType]:
    """Remember a follow-up asked before its order was known, to answer it once the order is."""
    return [SlotSet("followup", followup)] if followup else []


def is_angry(tracker: Tracker) -> bool:
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    return intent == "complain" or sounds_angry(_text(tracker))


class ActionAnswerQuestion(Action):
    """Answers the buyer's question, or a follow-up, for their own order; finds and verifies the
    order first. The order and topic in play stay in slots for the follow-ups."""

    def name(self) -> str:
        return "action_answer_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        return self.respond(dispatcher, tracker, (tracker.latest_message.get("intent") or {}).get("name"))

    def respond(self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str]) -> list[EventType]:
        if tracker.active_loop_name in ("cancel_form", "dispute_form") and changed_mind(_text(tracker)):
            # "actually nvm, I'll talk to the seller first": the buyer calls the form off; nothing is filed.
            dispatcher.utter_message(response="utter_form_stopped")
            return [*clear("offer", "requested_slot", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS),
                    ActiveLoop(None), FollowupAction("action_listen")]
        slot_topic = in_slot(tracker.get_slot("topic"))
        followup = intent if intent in FOLLOWUPS else None
        if followup == "ask_if_seller_refuses" and about_silence(_text(tracker)):
            followup = SILENCE_FOLLOWUP
        if followup is None and intent in ("provide_order_number", "provide_email"):
            followup = tracker.get_slot("followup")
        angry = is_angry(tracker) and tracker.active_loop_name is None
        if (intent != "complain" and slot_topic and tracker.get_slot("order_number") and tracker.active_loop_name is None
                and waited_long(_text(tracker)) and not order_number_in(tracker) and not topic_from_words(_text(tracker))):
            # "it's been almost a month!!" after an answer: frustration at the wait for the order in play.
            intent, angry = "complain", True
        if topic_of(intent):
            topic = topic_of(intent)
        elif angry and intent == "complain":
            topic = slot_topic or "refund_status"
        else:
            topic = slot_topic
        if intent in ("provide_order_number", "provide_email") and not followup:
            topic = topic_from_words(_text(tracker)) or topic
        events: list[EventType] = [SlotSet("topic", topic)]
        try:
            return events + self._answer(dispatcher, tracker, intent, topic, followup, angry)
        except StoreUnavailable:
            dispatcher.utter_message(response="utter_store_unavailable")
            return events

    def _answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str],
                topic: Optional[str], followup: Optional[str], angry: bool) -> list[EventType]:
        svc = get_services()
        channel = channel_of(tracker)
        in_form = tracker.active_loop_name is not None
        linked = linked_customer(tracker, svc)
        # Never a slot: a customer this conversation proved by email (it may be another account than the
        # linked one), else the linked one.
        customer_id = verified_customer(tracker, svc) or linked
        order_number = tracker.get_slot("order_number")
        question = topic or "status"
        given = order_number_in(tracker) or earlier_order(tracker)
        email = email_in(tracker)
        events: list[EventType] = []
        newly_chosen = False
        candidates: Optional[list[Candidate]] = None

        def ranked() -> list[Candidate]:
            nonlocal candidates
            if candidates is None:
                candidates = svc.orders_for_question(linked, question) if linked else []
            return candidates

        def apologise(with_facts: bool) -> None:
            """An angry buyer hears sorry first: then the key fact, or how we get to it."""
            if angry:
                dispatcher.utter_message(response="utter_sorry" if with_facts else "utter_sorry_no_order")

        page = _first_entity(tracker, "order_page")
        if page and linked and not given:
            n = int(page) if str(page).isdigit() and int(page) > 0 else 1
            dispatcher.utter_message(response="utter_choose_order", buttons=order_buttons(ranked(), n))
            return events

        # A new question the order in play doesn't fit, where the order's state is the evidence
        # ("the seller rejected my cancellation" after a refund question): pick again.
        asked = topic_of(intent)
        if (order_number and linked and not in_form and not followup and asked and topic_named(asked).strong
                and asked != in_slot(tracker.get_slot("topic")) and not given
                # a cancellation being offered for the order in play: a question about the seller's answer is about it
                and not (tracker.get_slot("offer") == "cancel" and topic_named(asked).answers[0] == "cancel")
                # "and then how long does the seller have?" after a cancel answer: the seller's time to answer
                # for the order in play, not another order's pending request
                and not (asked == "cancellation_status" and in_slot(tracker.get_slot("topic"))
                         and topic_named(in_slot(tracker.get_slot("topic"))).about == "cancel")):
            here = next((c for c in ranked() if c.order.id == order_number), None)
            if here is None or not here.relevant:
                order_number = None

        # An item named ("the lamp", "my headphones") picks the buyer's order.
        if not given and linked:
            named = items_named(_text(tracker), [c.order for c in ranked()])
            if not named and not in_form:
                # "the seller approved my cancellation": the one order in that state, when only one is
                by_state = named_by_state(_text(tracker), [c.order for c in ranked()])
                named = by_state if len(by_state) == 1 else []
            if len(named) == 1:
                given = named[0].id
            elif len(named) > 1 and not (order_number and order_number in {o.id for o in named}):
                ids = {o.id for o in named}
                apologise(False)
                dispatcher.utter_message(response="utter_choose_order",
                                         buttons=order_buttons([c for c in ranked() if c.order.id in ids]))
                return events + _keep_followup(followup)

        if given:
            try:
                given = normalize_order_id(given)
            except InvalidInput:
                dispatcher.utter_message(response="utter_bad_order_number", order_number=given[:40])
                return events
            if given != order_number:
                order_number, newly_chosen = None, True
                if customer_id is None:
                    if not email:
                        apologise(False)
                        dispatcher.utter_message(response="utter_ask_email", order_number=given)
                        return [SlotSet("pending_order", given)] + _keep_followup(followup)
                    events.append(SlotSet("pending_order", given))
                else:
                    try:
                        svc.explain(given, customer_id=customer_id, record=False)
                        order_number = given
                    except (NotYourOrder, OrderNotFound):
                        # The same words and state either way: nobody learns whether someone else's order exists.
                        dispatcher.utter_message(response="utter_not_your_order", order_number=given)
                        return [SlotSet("pending_order", given)]

        pending = tracker.get_slot("pending_order")
        # The email on the order verifies it: the order just given with it in one message, or the
        # pending one (even while another order is in play, after "not your order").
        to_verify = given if (given and customer_id is None) else (pending if not given else None)
        if to_verify and email:
            try:
                customer_id = verify(tracker, svc, to_verify, email).customer_id
            except VerificationLocked as e:
                dispatcher.utter_message(response="utter_verification_locked", order_number=to_verify,
                                         locked_until=fmt(e.until, svc.clock()))
                return events
            except (VerificationFailed, InvalidInput):
                # An unknown order and a wrong email get the same answer and leave the same state.
                dispatcher.utter_message(response="utter_email_mismatch", order_number=to_verify)
                return events
            order_number, newly_chosen, pending = to_verify, True, None
            events += [SlotSet("pending_order", None), SlotSet("customer_id", customer_id)]

        if order_number is None:
            if pending and not given:
                dispatcher.utter_message(response="utter_ask_email", order_number=pending)
                return events
            if followup or (topic is None and not angry):
                # A follow-up with no order in play: ask which order, never guess one.
                apologise(False)
                if linked and ranked():
                    dispatcher.utter_message(response="utter_which_order_followup", buttons=order_buttons(ranked()))
                else:
                    dispatcher.utter_message(response="utter_ask_order_number")
                return events + _keep_followup(followup)
            the_order = the_one(topic_named(question), ranked())
            if the_order is not None:
                order_number, newly_chosen = the_order.id, True
            elif ranked():
                apologise(False)
                dispatcher.utter_message(response="utter_choose_order", buttons=order_buttons(ranked()))
                if angry:
                    dispatcher.utter_message(response="utter_offer_person")
                return events
            elif linked:
                dispatcher.utter_message(response="utter_no_orders")
                return events
            else:
                apologise(False)
                dispatcher.utter_message(response=general_response(question), **config_vars(svc.config))
                dispatcher.utter_message(response="utter_ask_order_number")
                if angry:
                    dispatcher.utter_message(response="utter_offer_person")
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
        o = decision.order
        if followup:
            responses, offer, deadline = plan_followup(followup, topic, decision), None, None
            if followup == "ask_escalation" and decision.dispute.rule == "dispute.open":
                offer = "escalate"
        else:
            responses, offer, deadline = plan_answer(question, decision)
        apologise(True)
        if newly_chosen:
            dispatcher.utter_message(response="utter_order_in_play", **variables)
        for r in responses:
            dispatcher.utter_message(response=r, **variables)
        if tracker.active_loop_name == "dispute_form" and topic_named(question).about == "refund" and not followup:
            # "will I get the whole 58 back?" while filing a dispute: how much the dispute asks for.
            dispatcher.utter_message(response=DISPUTE_REFUND_AMOUNT,
                                     order_amount=tracker.get_slot("order_amount") or f"{o.amount} {o.currency}")
        if in_form:
            return events  # the form's order stays the one the form is about
        events += [
            SlotSet("order_number", o.id),
            SlotSet("customer_id", customer_id or o.customer),
            SlotSet("order_status", o.status.value),
            SlotSet("order_amount", f"{o.amount} {o.currency}"),
            SlotSet("order_item", o.item),
            SlotSet("followup", None),
        ]
        if deadline or not followup:
            events.append(SlotSet("deadline", fmt(deadline, decision.now) if deadline else None))
        if angry:
            dispatcher.utter_message(response="utter_offer_person")
            return events + [SlotSet("offer", None)]
        others = [] if followup else other_questions(_text(tracker), question)
        if others:
            dispatcher.utter_message(response="utter_also_asked", buttons=[
                {"title": title(key, o.item), "payload": '/%s{"order_number":"%s"}' % (ASKED[key].intent, o.id)}
                for key in others])
        if followup and offer is None:
            return events  # a follow-up keeps what was offered
        # A new answer: what the previous one offered, and any half-filled form, are gone.
        events += [SlotSet("offer", offer), *clear(*DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS)]
        if offer == "cancel" and o.status.value == "awaiting_payment":
            dispatcher.utter_message(response="utter_offer_cancel_unpaid", **variables)
        elif offer:
            dispatcher.utter_message(response=f"utter_offer_{offer}", **variables)
        if offer == "dispute":
            reason = topic_named(question).dispute_reason
            if reason:
                events.append(SlotSet("dispute_reason", reason))
                events.append(SlotSet("dispute_reason_label", dispute_reason_label(reason)))
            if reason in NOT_ARRIVED:  # nothing to keep: never a partial refund
                events += [SlotSet("refund_type", "full"), SlotSet("refund_amount", f"{o.amount} {o.currency}")]
        return events


def _refused(dispatcher: CollectingDispatcher, outcome: Outcome, question: str) -> None:
    variables = template_vars(outcome.decision)
    dispatcher.utter_message(response="utter_not_filed_policy", **variables)
    dispatcher.utter_message(response=rule_response(outcome.decision, question), **variables)


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
    elif isinstance(err, InvalidInput):
        dispatcher.utter_message(response="utter_request_invalid")
    else:
        dispatcher.utter_message(response="utter_action_unavailable")


class ActionSubmitCancellation(Action):
    def name(self) -> str:
        return "action_submit_cancellation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        reset = clear(*CANCEL_FORM_SLOTS, "offer")
        order_number = tracker.get_slot("order_number")
        confirm = tracker.get_slot("cancel_confirm")
        if confirm is None and tracker.get_slot("order_status") == "awaiting_payment":
            confirm = True  # unpaid: the accepted offer ("cancel it now?") was the confirmation
        if not confirm or not order_number:
            dispatcher.utter_message(response="utter_cancellation_not_filed", order_number=order_number or "-")
            return reset + [FollowupAction("action_listen")]  # the form was called off: wait for the buyer
        reason = tracker.get_slot("cancel_reason") or "other"
        try:
            outcome = get_services().request_cancellation(
                order_number, reason, customer_id=_acting(tracker), channel=channel_of(tracker))
        except ServiceError as e:
            _service_error(dispatcher, e, order_number)
            return reset
        variables = template_vars(outcome.decision)
        if outcome.refused:
            _refused(dispatcher, outcome, "cancel")
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
            dispatcher.utter_message(response="utter_dispute_not_filed", dispute_until=dispute_until(tracker))
            return reset + [FollowupAction("action_listen")]  # the form was called off: wait for the buyer
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
            _refused(dispatcher, outcome, "dispute")
        elif not outcome.created:
            dispatcher.utter_message(response="utter_dispute_already_filed", reference=outcome.reference,
                                     request_state=outcome.state, **variables)
        else:
            dispatcher.utter_message(response="utter_dispute_filed", reference=outcome.reference, **variables)
        return reset + [SlotSet("order_status", outcome.decision.status.value)]


# "ok i'll wait", "let me wait", "not yet": an answer to an offer that says no for now.
WAITS = re.compile(r"\b(i'?ll|i will|i'?d rather|let me|gonna|going to|i can) (just )?wait\b|^\W*(no\W+)?not (yet|now)\b", re.I)


class ActionEscalateDispute(Action):
    def name(self) -> str:
        return "action_escalate_dispute"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        order_number = tracker.get_slot("order_number")
        events = clear("offer")
        if WAITS.search(_text(tracker)):
            # "ok ill wait" to "shall I escalate it now?": not a yes; nothing is escalated.
            return ActionDeclineOffer().run(dispatcher, tracker, domain)
        named = order_number_in(tracker)
        if named and order_number and named != order_number:
            # "and my other dispute 81...11?" while escalating this one is offered: a question about that
            # order, never a yes to escalate this one.
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            return events + ActionAnswerQuestion().respond(dispatcher, tracker, intent)
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
            _refused(dispatcher, outcome, "dispute")
        elif outcome.created:
            dispatcher.utter_message(response="utter_escalated", reference=outcome.reference)
        else:
            dispatcher.utter_message(response="utter_already_escalated", reference=outcome.reference)
        return events


def dispute_until(tracker: Tracker) -> str:
    """The last day a dispute can be opened on the order in play (the end of buyer protection), for
    "you can ask me again any time before ...". The `deadline` slot holds the date the answer turned
    on, which for a parcel on its way is the end of the delivery window, not this one."""
    order_number = tracker.get_slot("order_number")
    if order_number:
        try:
            svc = get_services()
            customer = acting_customer(tracker, svc)
            if customer is not None:
                decision = svc.explain(order_number, customer_id=customer, record=False)
                until = template_vars(decision).get("dispute_until")
                if until:
                    return until
        except ServiceError:
            pass
    return tracker.get_slot("deadline") or wording.text("utter_text_buyer_protection_end")


class ActionDeclineOffer(Action):
    def name(self) -> str:
        return "action_decline_offer"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        offer = tracker.get_slot("offer")
        if offer == "cancel":
            dispatcher.utter_message(response="utter_cancellation_not_filed",
                                     order_number=tracker.get_slot("order_number") or "-")
        elif offer == "dispute":
            dispatcher.utter_message(response="utter_dispute_not_filed", dispute_until=dispute_until(tracker))
        else:
            dispatcher.utter_message(response="utter_anything_else")
        events = clear("offer", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS)
        if tracker.active_loop_name in ("cancel_form", "dispute_form"):
            # "actually no ill keep it" in the middle of the form: the form ends too, and is not asked again.
            events += [*clear("requested_slot"), ActiveLoop(None), FollowupAction("action_listen")]
        return events


class ActionAnswerInform(Action):
    """A form's kind of answer with no form running ("will I get all my money back", "everything back"): the
    buyer is asking about their order, not filling a form. The question its words name ("my money": the
    refund) or, failing that, the likeliest question the classifier saw in it is answered; with neither, the
    bot asks what else it can do."""

    FLOOR = 0.1  # a question below this in the ranking is noise, not a reading of the message

    def name(self) -> str:
        return "action_answer_inform"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        worded = topic_from_words(_text(tracker))
        if worded:
            return ActionAnswerQuestion().respond(dispatcher, tracker, ASKED[worded].intent)
        ranking = [r for r in tracker.latest_message.get("intent_ranking") or []
                   if r.get("name") not in ("inform", "nlu_fallback") and (r.get("confidence") or 0) >= self.FLOOR]
        top = ranking[0]["name"] if ranking else None
        if top and (topic_of(top) or top in FOLLOWUPS):
            return ActionAnswerQuestion().respond(dispatcher, tracker, top)
        dispatcher.utter_message(response="utter_anything_else")
        return []


class ActionStopForm(Action):
    def name(self) -> str:
        return "action_stop_form"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(response="utter_form_stopped")
        return clear("offer", "requested_slot", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS)


class ActionHumanHandoff(Action):
    """Records a handoff with what an agent needs at a glance (the order in play, the policy's
    answer and its rule, what the buyer wants, the transcript) and tells the buyer its reference.
    handoff_form then keeps the conversation for the person (data/rules/handoff.yml)."""

    def name(self) -> str:
        return "action_human_handoff"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        lines = []
        for e in tracker.events:
            if e.get("event") == "user" and e.get("text"):
                lines.append(f"buyer: {e['text']}")
            elif e.get("event") == "bot" and e.get("text"):
                lines.append(f"bot: {e['text']}")
        order_number, topic = tracker.get_slot("order_number"), in_slot(tracker.get_slot("topic"))
        try:
            svc = get_services()
            customer = acting_customer(tracker, svc)
            summary = [f"buyer wants: {title(topic) if topic in ASKED else '-'}"]
            if order_number and customer:
                try:
                    d = svc.explain(order_number, customer_id=customer, record=False)
                except ServiceError:
                    d = None  # not this customer's (any more): the handoff carries no order
                if d is not None:
                    answer = d.answers().get(topic_named(topic).about)
                    summary.insert(0, f"order: {d.order.id} ({d.order.item}), {d.order.status.value}")
                    if answer is not None:
                        summary.insert(1, f"policy: {answer.rule} (allowed: {'yes' if answer.allowed else 'no'}, "
                                          f"how: {answer.how.value})")
            ref = svc.record_handoff(
                channel=channel_of(tracker), sender_id=tracker.sender_id,
                transcript="\n".join(summary + ["---"] + lines),
                customer_id=customer, order_id=order_number)
        except ServiceError:
            dispatcher.utter_message(response="utter_store_unavailable")
            return clear("offer")
        dispatcher.utter_message(response="utter_handoff", handoff_reference=ref)
        return clear("offer", "followup", *DISPUTE_FORM_SLOTS, *CANCEL_FORM_SLOTS) + [SlotSet("handoff_ref", ref)]


class ActionAskHandoffNote(Action):
    """handoff_form's question: silent right after the handoff (its reference was just given),
    then "a person will reply here" for every message."""

    def name(self) -> str:
        return "action_ask_handoff_note"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        for e in reversed(tracker.events):
            if e.get("event") == "user":
                break
            if e.get("event") == "action" and e.get("name") == "action_human_handoff":
                return []
        dispatcher.utter_message(response="utter_handoff_relay",
                                 handoff_reference=tracker.get_slot("handoff_ref") or "-")
        return []


class ActionResumeBot(Action):
    def name(self) -> str:
        return "action_resume_bot"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        ref = tracker.get_slot("handoff_ref")
        if ref:
            dispatcher.utter_message(response="utter_bot_back", handoff_reference=ref)
        else:
            dispatcher.utter_message(response="utter_bot_here")
        return clear("handoff_ref", "handoff_note", "requested_slot")


# Languages with a reply of their own in domain.yml (utter_other_language_<code>); others get English.
REPLY_LANGUAGES = ("es", "pt", "ru")
LANGUAGES = ["en", "es", "pt", "ru", "fr", "de", "it", "pl", "tr", "nl", "uk"]
_identifier: Any = None


def language_of(text: str) -> str:
    """The language of a message (langid, offline; loaded on first use), among LANGUAGES."""
    global _identifier
    if re.search(r"[\u0400-\u04ff]", text) and not re.search(r"[іїєґ]", text.lower()):
        return "ru"
    if _identifier is None:
        from langid.langid import LanguageIdentifier, model

        ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
        ident.set_languages(LANGUAGES)
        _identifier = ident
    return _identifier.classify(text)[0]


class ActionOtherLanguage(Action):
    """A message in another language: say so in that language where the text exists, name the
    language the bot speaks, and offer a person. Never a guessed intent."""

    def name(self) -> str:
        return "action_other_language"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        lang = language_of(_text(tracker))
        dispatcher.utter_message(response=f"utter_other_language_{lang if lang in REPLY_LANGUAGES else 'en'}")
        return []


class ActionAskAffirmation(Action):
    """The two-stage fallback's first question, in plain words: the two or three likeliest topics
    as buttons titled for the buyer (never an intent name), keeping the order number the unclear
    message gave, plus "talk to a person". A message with no words to understand gets the menu."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        if self._names_an_order(tracker):
            # "the watch strap", "and for the keyboard?", "can i cancel #8100-...": the order is
            # what the buyer gave; answer for it (the question from the words or the one in play),
            # end the clarification loop (closing it later would take this answer back) and wait
            # for the buyer.
            return ActionAnswerQuestion().respond(dispatcher, tracker, "provide_order_number") + [
                ActiveLoop(None), FollowupAction("action_listen")]
        ranking = [r.get("name") for r in tracker.latest_message.get("intent_ranking") or []]
        candidates = [i for i in ranking if i != "nlu_fallback"]
        top = candidates[0] if candidates else None
        if tracker.get_slot("order_number") and (
                top in FOLLOWUPS or (top and topic_of(top) and topic_of(top) == in_slot(tracker.get_slot("topic")))):
            # An order in play and, likeliest, a follow-up or the question in play again ("fine, when exactly",
            # "can you undo it"): answer it for that order rather than ask, as a follow-up keeps the topic.
            return ActionAnswerQuestion().respond(dispatcher, tracker, top) + [
                ActiveLoop(None), FollowupAction("action_listen")]
        short_followup = next((c for c in candidates[:2] if c in FOLLOWUPS), None)
        if tracker.get_slot("order_number") and short_followup and len(_text(tracker).split()) <= 3:
            # "how long", "and then?" with an order in play: a follow-up about it, not a new topic to pick.
            return ActionAnswerQuestion().respond(dispatcher, tracker, short_followup) + [
                ActiveLoop(None), FollowupAction("action_listen")]
        if just_thanks(_text(tracker)) or ("thank" in candidates[:2] and top not in CLARIFY):
            dispatcher.utter_message(response="utter_you_are_welcome")  # "ok thx"
            return [ActiveLoop(None), FollowupAction("action_listen")]
        worded = topic_from_words(_text(tracker))
        close_call = worded in {topic_of(i) for i in candidates[:2]}  # "will i get my money back": refund or its status
        if (top == "inform" or close_call) and worded and tracker.get_slot("order_number") \
                and not tracker.get_slot("requested_slot"):
            # "will i get all my money back": unclear between a form's answer and a question, with no form to
            # answer and an order in play. The question its words name, for that order (as action_answer_inform).
            return ActionAnswerQuestion().respond(dispatcher, tracker, ASKED[worded].intent) + [
                ActiveLoop(None), FollowupAction("action_listen")]
        likely = [i for i in ranking if i in CLARIFY][:3]
        if likely and likely[0] == "check_order_status" and not tracker.get_slot("order_number"):
            # "where are my phone cases" with no order in play: which order (the status question asks it), not topics.
            return ActionAnswerQuestion().respond(dispatcher, tracker, likely[0]) + [
                ActiveLoop(None), FollowupAction("action_listen")]
        if not likely:
            # Nothing to read (emoji, keyboard mashing): the menu, and the next message starts afresh rather
            # than as a second failed try ("sorry cat walked on my laptop. wheres my refund").
            dispatcher.utter_message(response="utter_menu")
            return [ActiveLoop(None), FollowupAction("action_listen")]
        item = tracker.get_slot("order_item")
        number = order_number_in(tracker)
        entities = ('{"order_number":"%s"}' % re.sub(r"\D", "", number)) if number else ""
        buttons = []
        for intent in likely:
            buttons.append({"title": title(CLARIFY[intent], item), "payload": f"/{intent}{entities}"})
        buttons.append({"title": title("person"), "payload": "/human_handoff"})
        dispatcher.utter_message(response="utter_clarify", buttons=buttons)
        return []


    @staticmethod
    def _names_an_order(tracker: Tracker) -> bool:
        """The unclear message names an order, and the question is known: from its words, from the
        conversation, or because the message is little more than the order ("the watch strap")."""
        text = _text(tracker)
        known_question = bool(topic_from_words(text) or tracker.get_slot("topic")) or len(text.split()) <= 4
        if not known_question:
            return False
        if order_number_in(tracker):
            return True
        try:
            svc = get_services()
            linked = linked_customer(tracker, svc)
            if not linked:
                return False
            orders = [c.order for c in svc.orders_for_question(linked, "status")]
        except ServiceError:
            return False
        return bool(items_named(_text(tracker), orders))


def _reply_before_latest_message(tracker: Tracker) -> Optional[str]:
    """The response name of the bot's last reply before the buyer's latest message (None: none, or free text)."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest:
                return None  # two messages with no reply between them
            seen_latest = True
        elif seen_latest and event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


class ActionDefaultFallback(Action):
    """Rasa's give-up step, with one exception. Rasa gives up on a second unclear message in a row ("still don't
    understand"), but after the menu shown for a message with nothing to read (emoji, keyboard mashing) the
    next message is the buyer's first real try ("sorry cat walked on my laptop. wheres the refund for my
    keyboard"): it is read afresh, as the first unclear message of a conversation is. Otherwise (after a
    clarification the buyer did not take, or the dialogue policies unsure what to do next) Rasa's own answer:
    utter_default, and the message is taken back."""

    def name(self) -> str:
        return "action_default_fallback"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        unclear = (tracker.latest_message.get("intent") or {}).get("name") == "nlu_fallback"
        if unclear and _reply_before_latest_message(tracker) == "utter_menu":
            return ActionAskAffirmation().run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_default")
        return [UserUtteranceReverted()]


class ActionSessionStart(Action):
    """A new session keeps the order in play (its owner must still be proven: actions.identity) and nothing half-done: no
    form slots, no offer, no handoff."""

    KEEP = ("order_number", "order_item", "order_status", "order_amount")  # who the buyer is: actions.identity

    def name(self) -> str:
        return "action_session_start"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list[EventType]:
        from rasa_sdk.events import ActionExecuted, SessionStarted

        carried = [SlotSet(k, tracker.get_slot(k)) for k in self.KEEP if tracker.get_slot(k) is not None]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
