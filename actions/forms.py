"""Form validation: the cancellation form and the dispute form.

Buttons send reason codes; typed answers are mapped to the same codes. The
confirm slots are filled only by affirm/deny (domain.yml), so nothing is filed
without an explicit yes.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from orderdesk.model import CANCELLATION_REASONS, DISPUTE_REASONS, MAX_DESCRIPTION
from orderdesk.nlp.cues import calls_off, is_question
from orderdesk.services import InvalidInput, parse_amount
from orderdesk.wording import cancel_reason_label, config_vars, dispute_reason_label

# Typed reasons -> codes; first match wins. Anything else is "other" (the buyer confirms it next).
CANCEL_KEYWORDS = (
    (r"wrong|mistake|size|colou?r|by accident", "wrong_product"),
    (r"duplicate|twice|two times|double", "duplicate_order"),
    (r"contact|reply|respond|answer", "no_contact"),
    (r"stock|sold out|unavailable", "out_of_stock"),
    (r"refus|won'?t ship|will not ship|not ship", "seller_refuses"),
)
DISPUTE_KEYWORDS = (
    (r"fake|counterfeit|replica|not original", "counterfeit"),
    (r"broken|damag|crack|doesn'?t work|not work|defect|dead", "damaged"),
    (r"another (place|country|address|city)|wrong (address|country|city)|somewhere else", "wrong_destination"),
    (r"track", "tracking_stalled"),
    (r"never (came|arrived)|not (arrived|received)|didn'?t (arrive|get|receive)|lost|no parcel", "not_received"),
    (r"deliver.*(end|over|expir)|window", "delivery_ending"),
)

# Reasons where nothing arrived: there is no item to keep, so the refund is full (never partial).
NOT_ARRIVED = frozenset({"not_received", "tracking_stalled", "wrong_destination", "delivery_ending"})


# A question typed where the form wanted an answer, about how much comes back.
MONEY_QUESTION = re.compile(r"\b(money|refund|back|whole|full|all|amount|how much|\d+(\.\d+)?)\b", re.I)
DISPUTE_REFUND_AMOUNT = "utter_dispute_refund_amount"
QUESTION_NOTED = "utter_form_question_noted"
STOP = {"requested_slot": None}  # ends the form early; its submit action then says nothing was filed


def _not_an_answer(slot: str, text: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[dict[str, Any]]:
    """The slot's events when a typed message is not the form's answer: the buyer calls the form off
    ("actually no, I'll keep it": nothing is filed), or asks a question (never stored as a reason or a
    description: answered or acknowledged, and the form asks again). None: it is an answer."""
    if calls_off(text):
        return {slot: None, **STOP}
    if is_question(text):
        if MONEY_QUESTION.search(text) and tracker.active_loop_name == "dispute_form":
            dispatcher.utter_message(response=DISPUTE_REFUND_AMOUNT, order_amount=tracker.get_slot("order_amount") or "-")
        else:
            dispatcher.utter_message(response=QUESTION_NOTED)
        return {slot: None}
    return None


# A typed go-ahead ("ok do it", "si, yes file it") where the form asked for a reason: not a reason, so
# the form asks for one again (with its buttons) instead of filing "Other".
GO_AHEAD_WORDS = frozenset({"ok", "okay", "k", "kk", "yes", "ya", "yeah", "yea", "yep", "yup", "y", "sure", "si", "sí",
                            "do", "it", "go", "ahead", "file", "open", "cancel", "please", "pls", "plz", "just",
                            "then", "fine", "alright", "one", "that", "now", "proceed", "continue", "confirm"})


def just_goes_ahead(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+", (text or "").lower())
    return bool(words) and all(w in GO_AHEAD_WORDS for w in words)


def _typed_reason(slot: str, text: str, codes, keywords, default: str, dispatcher: CollectingDispatcher,
                  tracker: Tracker) -> tuple[Optional[str], Optional[dict[str, Any]]]:
    """A reason the buyer clicked or typed: (its code, None); or (None, the slot's events) when the text is a
    go-ahead (the form asks again), a call-off or a question (`_not_an_answer`)."""
    if text not in codes and not _match(text, keywords):
        if just_goes_ahead(text):
            return None, {slot: None}
        other = _not_an_answer(slot, text, dispatcher, tracker)
        if other is not None:
            return None, other
    return (text if text in codes else (_match(text, keywords) or default)), None


def _match(text: str, table) -> Optional[str]:
    t = text.lower()
    for pattern, code in table:
        if re.search(pattern, t):
            return code
    return None


def _order_amount(tracker: Tracker) -> tuple[Decimal, str]:
    raw = (tracker.get_slot("order_amount") or "0").split()
    return Decimal(raw[0]), (raw[1] if len(raw) > 1 else "")


class ValidateCancelForm(FormValidationAction):
    def name(self) -> str:
        return "validate_cancel_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        # An unpaid order is cancelled at once: the offer was the confirmation, no reason is needed.
        if tracker.get_slot("order_status") == "awaiting_payment":
            return []
        return domain_slots

    def validate_cancel_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        code, not_one = _typed_reason("cancel_reason", text, CANCELLATION_REASONS, CANCEL_KEYWORDS, "other",
                                      dispatcher, tracker)
        if not_one is not None:
            return not_one
        return {"cancel_reason": code, "cancel_reason_label": cancel_reason_label(code)}


class ActionAskCancelConfirm(Action):
    """The cancel form's confirmation question: it names the seller's time to answer, a policy number
    (the form would send utter_ask_cancel_confirm with the slots alone)."""

    def name(self) -> str:
        return "action_ask_cancel_confirm"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[Any]:
        from orderdesk.services import ServiceError

        from .store import get_services

        try:
            config = get_services().config
        except ServiceError:  # the store is unreachable: the numbers are still the policy's
            from orderdesk.policy_config import DEFAULT as config
        dispatcher.utter_message(response="utter_ask_cancel_confirm", **config_vars(config))
        return []


class ValidateDisputeForm(FormValidationAction):
    def name(self) -> str:
        return "validate_dispute_form"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if tracker.get_slot("refund_type") == "full":
            return [s for s in domain_slots if s != "refund_amount"]
        return domain_slots

    def validate_dispute_reason(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").strip()
        code, not_one = _typed_reason("dispute_reason", text, DISPUTE_REASONS, DISPUTE_KEYWORDS, "not_as_described",
                                      dispatcher, tracker)
        if not_one is not None:
            return not_one
        out: dict[str, Any] = {"dispute_reason": code, "dispute_reason_label": dispute_reason_label(code)}
        if code in NOT_ARRIVED:
            limit, currency = _order_amount(tracker)
            out.update(refund_type="full", refund_amount=f"{limit} {currency}".strip())
        # A typed reason that says more than a word doubles as the description (if it fits; a longer
        # one is asked for next, and the too-long answer is explained there).
        if (text not in DISPUTE_REASONS and 20 <= len(text) <= MAX_DESCRIPTION
                and not tracker.get_slot("dispute_description")):
            out["dispute_description"] = text
        return out

    def validate_dispute_description(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> dict[str, Any]:
        text = " ".join(str(value or "").split())
        # A description may ask something on the way ("... why would they do this?"); a short message
        # that is only a question is not one.
        other = _not_an_answer("dispute_description", text, dispatcher, tracker) if len(text.split()) <= 12 else None
        if other is not None:
            return other
        if len(text) < 5:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"dispute_description": None}
        if len(text) > MAX_DESCRIPTION:
            dispatcher.utter_message(response="utter_description_too_long", length=f"{len(text):,}",
                                     limit=f"{MAX_DESCRIPTION:,}")
            return {"dispute_description": None}
        return {"dispute_description": text}

    def validate_refund_type(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> dict[str, Any]:
        text = str(value or "").lower()
        # Whole words: "small" is not "all", "awesome" is not "some".
        if re.search(r"\bpart|\bsome\b|\bkeep", text):
            return {"refund_type": "partial"}
        if re.search(r"\bfull|\ball\b|\bwhole\b|\beverything\b", text):
            limit, currency = _order_amount(tracker)
            return {"refund_type": "full", "refund_amount": f"{limit} {currency}".strip()}
        # "how much can i ask for?", "nvm": a question answered or a call-off, then the form asks again.
        not_an_answer = _not_an_answer("refund_type", str(value or ""), dispatcher, tracker)
        if not_an_answer is not None:
            return not_an_answer
        dispatcher.utter_message(response="utter_invalid_refund_type")
        return {"refund_type": None}

    def validate_refund_amount(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: DomainDict) -> dict[str, Any]:
        limit, currency = _order_amount(tracker)
        try:
            amount = parse_amount(value, limit, currency)
        except InvalidInput:
            dispatcher.utter_message(response="utter_invalid_refund_amount",
                                     order_amount=tracker.get_slot("order_amount") or "-")
            return {"refund_amount": None}
        return {"refund_amount": str(amount)}


class ValidateHandoffForm(FormValidationAction):
    """While a person has the conversation, each message goes to the handoff's transcript; the
    slot is emptied again so the form keeps the conversation until the buyer asks for the bot."""

    def name(self) -> str:
        return "validate_handoff_form"

    def validate_handoff_note(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                              domain: DomainDict) -> dict[str, Any]:
        from orderdesk.services import ServiceError

        from .identity import channel_of
        from .store import get_services

        ref = tracker.get_slot("handoff_ref")
        if ref and value:
            try:
                get_services().add_to_handoff(ref, f"buyer: {value}", channel=channel_of(tracker),
                                              sender_id=tracker.sender_id)
            except ServiceError:
                dispatcher.utter_message(response="utter_store_unavailable")
        return {"handoff_note": None}
