"""Messages the classifier should not guess at: no words to understand, or another language.

DIET always names some intent, often with confidence: "asdkjh qwpoeiru", "🤔🤔" or "quiero
cancelar" would be read as an English question and answered. This component runs after the
classifiers and looks at the words themselves:

* another language: a message in another script (Cyrillic, ...), or one where most words are not
  English words the pipeline knows (no Brown cluster, see `orderdesk.nlp.clusters`) and `langid`
  (an offline language identifier with its model in the package) names another language with
  confidence, becomes `other_language`; the bot answers in that language where it has the text;
* a person asked for, or anger: a message the classifier was unsure about (a fallback) that asks
  for a person (`orderdesk.nlp.cues`) becomes `human_handoff`, even said angrily; one that sounds
  angry becomes `complain`: the bot says sorry and gives the key fact first, rather than asking
  the angry buyer to rephrase;
* noise: no run of two letters (emoji, punctuation), or letters but no known word and no other
  language, becomes `nlu_fallback` with an empty ranking; the bot's clarification step
  (`action_default_ask_affirmation`) shows its short menu for that.

A message with an entity (an order number, an email) is information, never noise.

    - name: orderdesk.nlp.gate.MessageGate   # after FallbackClassifier
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from .cues import asks_for_person, sounds_angry

FALLBACK = "nlu_fallback"
OTHER_LANGUAGE = "other_language"
COMPLAIN = "complain"
HANDOFF = "human_handoff"
LETTERS = re.compile(r"[^\W\d_]{2,}")
# The languages langid may choose from (buyers of this marketplace); English among them.
LANGUAGES = ["en", "es", "pt", "ru", "fr", "de", "it", "pl", "tr", "nl", "uk"]
# Chat words that are a whole answer and have no Brown cluster (the clusters come from edited English text):
# known words all the same, so "ok" at a confirmation is a yes for the classifier, not noise that gets the menu.
CHAT_WORDS = frozenset({"ok", "okey", "thx", "tysm", "yup", "nope", "nah", "np"})
KNOWN_SHARE = 0.5  # below this share of known English words, ask langid
CONFIDENCE = 0.9


class _LangId:
    _ident: Any = None

    @classmethod
    def classify(cls, text: str) -> tuple[str, float]:
        if cls._ident is None:
            from langid.langid import LanguageIdentifier, model

            ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
            ident.set_languages(LANGUAGES)
            cls._ident = ident
        lang, p = cls._ident.classify(text)
        return lang, float(p)


VOWELS = "aeiouyàáâãäåæèéêëìíîïòóôõöøùúûüýÿąęő"
CONSONANT_RUN = re.compile(r"[^\W\d_%s]{5,}" % VOWELS, re.IGNORECASE)


# The classifier's confidence above which a message of unknown words that are not keyboard mashing keeps
# its intent: character n-grams read "refnd" and "cancle" where the word list does not know them.
TRUSTED = 0.9


def unsure_intent(text: str) -> Optional[str]:
    """What a message the classifier was unsure about means by its words alone: asking for a person is a handoff
    (even said angrily: "this is ridiculous i want to talk to a human"), anger is a complaint; None: still unsure."""
    if asks_for_person(text):
        return HANDOFF
    if sounds_angry(text):
        return COMPLAIN
    return None


def unpronounceable(word: str) -> bool:
    """No vowel at all ("xcvb"), or five consonants in a row ("asdkjh"): no language's word."""
    w = word.lower()
    return len(w) >= 3 and (not any(c in VOWELS for c in w) or bool(CONSONANT_RUN.search(w)))


def mashed(words: List[str]) -> bool:
    """Most of the message's words are unpronounceable: keys hit at random, not another language."""
    return sum(1 for w in words if unpronounceable(w)) * 2 >= len(words)


def verdict(text: str, clusters: Optional[List[int]], has_entities: bool,
            classify=_LangId.classify, confidence: float = 0.0) -> Optional[str]:
    """"other_language", "noise", or None (leave the classifier's answer). `clusters` are the Brown
    clusters of the message's words (0: not a known English word); `confidence` is the classifier's
    for its intent: a misspelt or text-speak message it is sure of ("refnd", "y tho") is not noise."""
    if has_entities:
        return None
    words = LETTERS.findall(text or "")
    if not words:
        return "noise"
    if not all(w.isascii() or w.isalpha() and all(ord(c) < 0x250 for c in w) for w in words):
        return OTHER_LANGUAGE  # another script
    if not clusters:
        return None
    known = sum(1 for c in clusters if c) / len(clusters)
    if known >= KNOWN_SHARE:
        return None
    if known == 0 and mashed(words):
        return "noise"  # keyboard mashing: langid would name some language for it with confidence
    lang, p = classify(text)
    if lang != "en" and p >= CONFIDENCE:
        return OTHER_LANGUAGE
    if known == 0 and confidence >= TRUSTED:
        return None
    return "noise" if known == 0 else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageGate(GraphComponent):
    """Marks wordless, unintelligible or foreign messages (see the module docstring)."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MessageGate":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for m in messages:
            text = m.get(TEXT) or ""
            doc = m.get(SPACY_DOCS[TEXT])
            clusters = [t.cluster or int(t.lower_ in CHAT_WORDS) for t in doc if LETTERS.search(t.text)] \
                if doc is not None else None
            intent = (m.get(INTENT) or {}).get("name")
            sure = 0.0 if intent == FALLBACK else (m.get(INTENT) or {}).get("confidence") or 0.0
            found = verdict(text, clusters, bool(m.get(ENTITIES)), confidence=sure)
            unsure_means = unsure_intent(text) if found is None and intent == FALLBACK else None
            if unsure_means:
                m.set(INTENT, {"name": unsure_means, "confidence": 1.0}, add_to_output=True)
            elif found == "noise":
                m.set(INTENT, {"name": FALLBACK, "confidence": 1.0}, add_to_output=True)
                m.set(INTENT_RANKING_KEY, [], add_to_output=True)
            elif found == OTHER_LANGUAGE:
                m.set(INTENT, {"name": OTHER_LANGUAGE, "confidence": 1.0}, add_to_output=True)
                m.set(INTENT_RANKING_KEY, [{"name": OTHER_LANGUAGE, "confidence": 1.0}], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
