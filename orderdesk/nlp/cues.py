"""Word cues the classifier's intent alone misses; pure (no Rasa), shared by the NLU gate and the actions.

* `ANGER`: anger and chargeback threats, whatever the intent ("WHERE IS MY MONEY, this is a scam").
* `WAITED`: "it's been almost a month", "been waiting weeks": the buyer's frustration at the wait for
  the order in play, not a new question.
* `THANKS`: "ok thx", "ty": words the pipeline may not know (the gate then sees noise).
* `CHANGED_MIND`: "actually nvm, I'll talk to the seller first" inside a form: the buyer drops it, whatever
  question the rest of the message asks.
* `SILENCE`: "what if the seller never answers / ignores it", which the classifier files with "what if
  the seller refuses" although the policy's answer differs (no answer in time: cancelled automatically).
"""
from __future__ import annotations

import re

ANGER = re.compile(r"\b(ridiculous|scam\w*|useless|angry|furious|unacceptable|disgust\w*|chargeback|"
                   r"charge ?back|thie(f|ves)|fraud|sue|stole|joke|fed up|sick of|worst)\b|[!?]{3,}|\?!|!\?",
                   re.IGNORECASE)


def sounds_angry(text: str) -> bool:
    """Anger words, "?!", or a long message all in capitals."""
    text = text or ""
    shouting = sum(c.isupper() for c in text) > 8 and text.upper() == text
    return bool(ANGER.search(text)) or shouting


PERSON = re.compile(r"\b(talk|speak|chat|connect me|put me through)\w* (to|with) (a |an |the |some |your |real |live )*"
                    r"(human|person|people|agent|manager|supervisor|someone|somebody|representative|rep|staff)\b|"
                    r"\b(real|live) (human|person|agent)\b|\bget me (a |the )?(human|person|manager|agent)\b",
                    re.IGNORECASE)


def asks_for_person(text: str) -> bool:
    """The buyer asks for a person ("this is ridiculous, i want to talk to a human", "get me a manager")."""
    return bool(PERSON.search(text or ""))


SILENCE = re.compile(r"\b(ignor\w*|silent|silence|says? nothing)\b|\b(no|never an?|any) (answer|reply|response)\b|"
                     r"(\bnot|\bnever|n'?t|\bnobody|\bno ?one)\s+(\w+\s+)?(answer|repl[yi]|respond)", re.IGNORECASE)


def about_silence(text: str) -> bool:
    """The buyer asks what happens if the other side doesn't answer at all."""
    return bool(SILENCE.search(text or ""))


WAITED = re.compile(r"\b(it'?s|its|it has|has been|i'?ve|been) (been )?(waiting )?(almost |nearly |over |more than |like )?"
                    r"(a|an|one|two|three|four|\d+|several|many|few)? ?(days?|weeks?|months?|ages|forever)\b", re.IGNORECASE)


def waited_long(text: str) -> bool:
    """The message complains about how long it's been."""
    return bool(WAITED.search(text or ""))


THANKS = re.compile(r"^\W*(ok(ay)?|k|cool|great|alright|fine)?\W*(thx|thanks?|thank (you|u)|ty|tysm|thanx|cheers)\b[\W\w]{0,20}$",
                    re.IGNORECASE)


def just_thanks(text: str) -> bool:
    """A short thank-you and nothing else of substance."""
    return bool(THANKS.search((text or "").strip()))


CHANGED_MIND = re.compile(r"\b(nvm|never ?mind|forget (it|that|about it)|changed? my mind|hold off|"
                          r"actually,? (no|don'?t|not now|leave it))\b", re.IGNORECASE)


def changed_mind(text: str) -> bool:
    """The buyer calls off what they started ("nvm", "never mind", "forget it", "actually no")."""
    return bool(CHANGED_MIND.search(text or ""))


# Calling off a form that asked for a reason or a description. Narrower than `changed_mind`: "I
# changed my mind" is a reason to cancel, and is taken as one there.
CALLS_OFF = re.compile(r"\b(nvm|never ?mind|forget (it|that|about it)|hold off|"
                       r"actually,? (no|don'?t|not now|leave it)|i'?ll keep it|i('?ll| will) keep (it|the \w+)|"
                       r"don'?t (cancel|file|open) (it|anything|the)|leave it as it is)\b", re.IGNORECASE)


def calls_off(text: str) -> bool:
    """The buyer calls off the form they are in ("actually no, i'll keep it", "nvm")."""
    return bool(CALLS_OFF.search(text or ""))


QUESTION = re.compile(r"\?\s*$|^\W*((wait|hold on|hang on|but|so|and|ok|um+)\W+)?"
                      r"((will|would|can|could|should|do|does|did|is|are|am)\W+(i|you|it|they|we|he|she|the|my|this|that|there)\b"
                      r"|(what|how|when|where|why|who|which)\b)",
                      re.IGNORECASE)


def is_question(text: str) -> bool:
    """The message asks something (ends with "?" or starts with a question word)."""
    return bool(QUESTION.search((text or "").strip()))
