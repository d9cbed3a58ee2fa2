"""A Rasa featurizer from Brown word clusters: distributional knowledge without vectors.

The project's spaCy pipeline has no word vectors (no model hub is reachable), so the
classifier knows only the words in the training data: "certainly" means nothing to it
if only "definitely" and "absolutely" were seen. `spacy-lookups-data` ships English
Brown clusters (`lexeme_cluster`: 190,000 words in 1,000 classes learned from a large
web corpus, each a path in a binary tree); `orderdesk.nlp.build_spacy` stores them in
the pipeline's vocabulary, where `Token.cluster` reads them.

For each token this component emits one-hot features for the token's cluster path cut
at several depths ("certainly" and "definitely" share the first 9 steps, "annul" and
"revoke" the whole path), as sequence features (one row per token) and sentence
features (their sum), like CountVectorsFeaturizer. The vocabulary of features is learned
from the training data; a path prefix never seen in training adds nothing.

The table stores each path with its first step in the lowest bit, so the prefix of
depth k is `cluster & (2**k - 1)`.

Config (config.yml):

    - name: orderdesk.nlp.clusters.BrownClusterFeaturizer
      prefix_bits: [4, 6, 8, 10, 12, 14]   # path depths; the full path is always added
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Optional, Text, Type

import numpy as np
import scipy.sparse

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

PREFIX_BITS = "prefix_bits"


def cluster_features(cluster: int, prefix_bits: Iterable[int]) -> List[str]:
    """Feature names for one token's cluster (none for a word without a cluster)."""
    if not cluster:
        return []
    return [f"{k}:{cluster & ((1 << k) - 1)}" for k in prefix_bits] + [f"full:{cluster}"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class BrownClusterFeaturizer(SparseFeaturizer, GraphComponent):
    """Sparse features from the Brown cluster of each token (see the module docstring)."""

    FILENAME = "cluster_feature_index.json"

    @classmethod
    def required_components(cls) -> List[Type]:
        return [SpacyTokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**SparseFeaturizer.get_default_config(), PREFIX_BITS: [4, 6, 8, 10, 12, 14]}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        bits = config.get(PREFIX_BITS)
        if not isinstance(bits, list) or not all(isinstance(b, int) and 0 < b < 64 for b in bits):
            raise InvalidConfigException(f"{cls.__name__}: {PREFIX_BITS} must be a list of integers 1-63, got {bits!r}")

    def __init__(self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
                 execution_context: ExecutionContext, index: Optional[Dict[str, int]] = None) -> None:
        super().__init__(execution_context.node_name, config)
        self.validate_config(self._config)
        self._model_storage = model_storage
        self._resource = resource
        self._prefix_bits = list(self._config[PREFIX_BITS])
        self._index: Dict[str, int] = index or {}

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "BrownClusterFeaturizer":
        return cls(config, model_storage, resource, execution_context)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "BrownClusterFeaturizer":
        try:
            with model_storage.read_from(resource) as path:
                index = rasa.shared.utils.io.read_json_file(path / cls.FILENAME)
        except ValueError:
            log.debug("%s: no trained index in resource %s", cls.__name__, resource.name)
            index = None
        return cls(config, model_storage, resource, execution_context, index)

    # -- features -------------------------------------------------------------------------------

    def _token_features(self, message: Message) -> List[List[str]]:
        """One list of feature names per Rasa token of the message text."""
        tokens = message.get(TOKENS_NAMES[TEXT]) or []
        doc = message.get(SPACY_DOCS[TEXT])
        if not tokens or doc is None:
            return [[] for _ in tokens]
        by_start = {t.idx: t.cluster for t in doc}
        return [cluster_features(by_start.get(tok.start, 0), self._prefix_bits) for tok in tokens]

    def train(self, training_data: TrainingData) -> Resource:
        names = sorted({f for m in training_data.training_examples for feats in self._token_features(m)
                        for f in feats})
        self._index = {name: i for i, name in enumerate(names)}
        if not self._index:
            rasa.shared.utils.io.raise_warning(
                f"{self.__class__.__name__}: no token of the training data has a Brown cluster; is the "
                "spaCy pipeline built by orderdesk.nlp.build_spacy (it stores the cluster table)?")
        with self._model_storage.write_to(self._resource) as path:
            rasa.shared.utils.io.dump_obj_as_json_to_file(path / self.FILENAME, self._index)
        return self._resource

    def _featurize(self, message: Message) -> None:
        if not self._index or not message.get(TOKENS_NAMES[TEXT]):
            return
        per_token = self._token_features(message)
        rows, cols = [], []
        for row, feats in enumerate(per_token):
            for f in feats:
                col = self._index.get(f)
                if col is not None:
                    rows.append(row)
                    cols.append(col)
        shape = (len(per_token), len(self._index))
        sequence = scipy.sparse.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=shape)
        sentence = scipy.sparse.coo_matrix(sequence.sum(axis=0))
        self.add_features_to_message(sequence=sequence, sentence=sentence, attribute=TEXT, message=message)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._featurize(message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
