"""Messages with no words to understand get a menu, not a guess.

DIET always names some intent, often with confidence: "asdkjh qwpoeiru" or "🤔🤔" would be read
as a question and answered. This component runs after the classifiers and turns a message into
`nlu_fallback` with an empty ranking when no word in it is an English word the pipeline knows
(no token has a Brown cluster, see `orderdesk.nlp.clusters`; words in other scripts are left
to the language check) and it carries no entity (an order
number or an email is information, not noise). The bot's clarification step
(`action_default_ask_affirmation`) shows its short menu for a fallback with no ranking.

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

FALLBACK = "nlu_fallback"
LETTERS = re.compile(r"[^\W\d_]{2,}")


def is_noise(text: str, clusters: Optional[List[int]], has_entities: bool) -> bool:
    """No word to understand: no run of two letters, or (when the token clusters are known)
    no token that is a known English word. Entities are never noise."""
    if has_entities:
        return False
    words = LETTERS.findall(text or "")
    if not words:
        return True
    if not all(w.isascii() for w in words):  # another script: the language check's business
        return False
    return clusters is not None and len(clusters) > 0 and not any(clusters)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class MessageGate(GraphComponent):
    """Marks wordless or unintelligible messages as a fallback with no ranking."""

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "MessageGate":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for m in messages:
            text = m.get(TEXT) or ""
            doc = m.get(SPACY_DOCS[TEXT])
            clusters = [t.cluster for t in doc if LETTERS.search(t.text)] if doc is not None else None
            if is_noise(text, clusters, bool(m.get(ENTITIES))):
                m.set(INTENT, {"name": FALLBACK, "confidence": 1.0}, add_to_output=True)
                m.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
