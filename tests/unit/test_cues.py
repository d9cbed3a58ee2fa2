"""The word cues (orderdesk.nlp.cues) the classifier's intent alone misses."""
import pytest

from orderdesk.nlp.cues import (about_silence, asks_for_person, calls_off, changed_mind, is_question, just_thanks,
                                waited_long)


@pytest.mark.parametrize("text", ["actually nvm ill talk to the seller first", "never mind", "Nevermind, forget it",
                                  "forget about it", "i changed my mind", "actually no, leave it", "hold off for now"])
def test_a_buyer_calling_off_what_they_started_is_heard(text):
    assert changed_mind(text)


@pytest.mark.parametrize("text", ["should i talk to the seller first", "what does the seller have to do",
                                  "no it never arrived", "actually it arrived broken", "I don't mind waiting"])
def test_a_question_or_a_plain_no_is_not_calling_it_off(text):
    assert not changed_mind(text)


def test_the_other_cues_keep_their_meaning():
    assert about_silence("what if the seller never answers") and not about_silence("what if they refuse")
    assert waited_long("its been almost a month!!") and not waited_long("when will it come")
    assert just_thanks("ok thx") and not just_thanks("thanks, but where is my refund for the lamp order")


@pytest.mark.parametrize("text", ["actually no ill keep it", "nvm", "i'll keep the lamp", "don't cancel it",
                                  "forget it", "actually, not now"])
def test_calling_off_a_form_is_heard(text):
    assert calls_off(text)


@pytest.mark.parametrize("text", ["I changed my mind", "I ordered the wrong size", "the seller won't answer",
                                  "keeping it is not an option, it's broken"])
def test_a_reason_is_not_calling_off_the_form(text):
    assert not calls_off(text)


@pytest.mark.parametrize("text", ["wait will i get the whole 58 back?", "do i get all my money back",
                                  "hold on, where does the money go if I cancel", "why?", "it never came?"])
def test_a_question_is_heard(text):
    assert is_question(text)


@pytest.mark.parametrize("text", ["does not work at all", "is broken", "the item is fake", "did not arrive",
                                  "I bought it twice", "wrong colour"])
def test_an_answer_is_not_taken_for_a_question(text):
    assert not is_question(text)


def test_an_approved_cancellation_names_orders_by_their_state():
    from types import SimpleNamespace

    from orderdesk.candidates import named_by_state
    from orderdesk.model import ClosedReason

    approved = SimpleNamespace(closed_reason=ClosedReason.CANCELLATION_APPROVED)
    other = SimpleNamespace(closed_reason=ClosedReason.SELLER_CANCELLED)
    assert named_by_state("the seller approved the cancelation like a month ago", [approved, other]) == [approved]
    assert named_by_state("my cancellation got accepted weeks ago, no money", [approved, other]) == [approved]
    assert named_by_state("where is my refund", [approved, other]) == []
    assert named_by_state("can i cancel it", [approved, other]) == []


@pytest.mark.parametrize("text", ["this is ridiculous i want to talk to a human", "get me a manager",
                                  "can i speak with a real person", "let me talk to someone", "live agent please",
                                  "put me through to your staff"])
def test_asking_for_a_person_is_heard(text):
    assert asks_for_person(text)


@pytest.mark.parametrize("text", ["should i talk to the seller first", "i talked to the seller, no answer",
                                  "is this a real product", "the person at the post office said it was lost"])
def test_the_seller_or_a_person_mentioned_is_not_asking_for_one(text):
    assert not asks_for_person(text)


@pytest.mark.parametrize("text, means", [("this is ridiculous i want to talk to a human", "human_handoff"),
                                         ("this is ridiculous, where is my money", "complain"),
                                         ("hmm the thing with the stuff", None)])
def test_an_unsure_message_means_a_handoff_before_a_complaint(text, means):
    from orderdesk.nlp.gate import unsure_intent

    assert unsure_intent(text) == means
