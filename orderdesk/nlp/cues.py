"""Word cues the classifier's intent alone misses; pure (no Rasa), shared by the NLU gate and the actions.

* `ANGER`: anger and chargeback threats, whatever the intent ("WHERE IS MY MONEY, this is a scam").
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


SILENCE = re.compile(r"\b(ignor\w*|silent|silence|says? nothing)\b|\b(no|never an?|any) (answer|reply|response)\b|"
                     r"(\bnot|\bnever|n'?t|\bnobody|\bno ?one)\s+(\w+\s+)?(answer|repl[yi]|respond)", re.IGNORECASE)


def about_silence(text: str) -> bool:
    """The buyer asks what happens if the other side doesn't answer at all."""
    return bool(SILENCE.search(text or ""))
