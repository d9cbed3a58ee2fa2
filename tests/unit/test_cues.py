"""The word cues (orderdesk.nlp.cues) the classifier's intent alone misses."""
import pytest

from orderdesk.nlp.cues import about_silence, changed_mind, just_thanks, waited_long


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
