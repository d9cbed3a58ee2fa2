"""Bound the work one message can cost the NLU pipeline.

DIET's transformer attends from every token to every other, so its time and memory grow
with the square of the message length: on 2 cores a 10,000-character message (about
1,900 tokens) took 1.1 s and 400 MB more memory, and a 50,000-character one 23 s and
11 GB (benchmarks/bench_nlu.py). The REST and socket.io channels accept any length from
anyone, so a few such messages would take the bot down.

`TokenLimiter` sits right after the tokenizer and keeps only the first `keep_first` and
last `keep_last` tokens for the featurizers and DIET: a long message usually sets the
scene first and asks at the end. The message text itself is untouched, so slots filled
from the text (a dispute description), the regex entity extractor (an order number in
the middle of a long message) and the tracker keep all of it. No training example comes
near the limit (the longest is 36 tokens), so training is unchanged.

    - name: orderdesk.nlp.limits.TokenLimiter
      keep_first: 64
      keep_last: 64
"""
from __future__ import annotations

from typing import Any, Dict, List, Text, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

KEEP_FIRST = "keep_first"
KEEP_LAST = "keep_last"


def limit(tokens: List[Any], keep_first: int, keep_last: int) -> List[Any]:
    """The first `keep_first` and last `keep_last` items; all of them when there are no more."""
    if len(tokens) <= keep_first + keep_last:
        return tokens
    return tokens[:keep_first] + (tokens[-keep_last:] if keep_last else [])


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class TokenLimiter(GraphComponent):
    """Keeps the first and last tokens of a long message for featurization (see the module docstring)."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {KEEP_FIRST: 64, KEEP_LAST: 64}

    def __init__(self, config: Dict[Text, Any]) -> None:
        keep_first, keep_last = config.get(KEEP_FIRST), config.get(KEEP_LAST)
        if not all(isinstance(n, int) and n >= 0 for n in (keep_first, keep_last)) or keep_first + keep_last == 0:
            raise InvalidConfigException(
                f"TokenLimiter: {KEEP_FIRST} and {KEEP_LAST} must be whole numbers >= 0, not both 0; "
                f"got {keep_first!r} and {keep_last!r}")
        self.keep_first, self.keep_last = keep_first, keep_last

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "TokenLimiter":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        key = TOKENS_NAMES[TEXT]
        for message in messages:
            tokens = message.get(key)
            if tokens and len(tokens) > self.keep_first + self.keep_last:
                message.set(key, limit(tokens, self.keep_first, self.keep_last))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
