"""The project-built spaCy pipeline and the Brown-cluster featurizer that reads it."""
from pathlib import Path

import pytest

from orderdesk.nlp.build_spacy import DEFAULT_OUTDIR, build
from orderdesk.nlp.clusters import BrownClusterFeaturizer, cluster_features


@pytest.fixture(scope="module")
def spacy_dir() -> Path:
    return build(DEFAULT_OUTDIR)  # a no-op when `make` has built it already


@pytest.fixture(scope="module")
def nlp(spacy_dir):
    import spacy

    return spacy.load(spacy_dir)


def test_lemmas_come_from_the_lookup_tables(nlp):
    assert [t.lemma_ for t in nlp("cancelled orders")] == ["cancel", "order"]


def test_order_and_tracking_numbers_are_entities_and_amounts_are_not(nlp):
    doc = nlp("order 8123456789012345 shipped as RB123456789CN, I paid 15.50")
    assert [(e.text, e.label_) for e in doc.ents] == [
        ("8123456789012345", "ORDER_NUMBER"), ("RB123456789CN", "TRACKING_NUMBER")]


def test_an_order_number_glued_to_its_label_is_its_own_token(nlp):
    assert "8123456789012345" in [t.text for t in nlp("order#8123456789012345")]


def test_related_words_share_a_cluster_path_and_nonsense_has_none(nlp):
    certainly, definitely, cancel, xyz = (nlp(w)[0].cluster for w in ("certainly", "definitely", "cancel", "qxzvbn"))
    mask = (1 << 8) - 1
    assert certainly & mask == definitely & mask
    assert certainly & mask != cancel & mask
    assert xyz == 0


def test_cluster_features_cut_the_path_at_each_depth():
    assert cluster_features(0b101101, [2, 4]) == ["2:1", "4:13", "full:45"]
    assert cluster_features(0, [2, 4]) == []


def _featurizer(tmp_path, spacy_dir):
    """SpacyNLP -> SpacyTokenizer -> BrownClusterFeaturizer, as Rasa runs them."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    spacy_nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(spacy_dir)},
                                storage, Resource("spacy"), context)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, Resource("tok"), context)
    featurizer = BrownClusterFeaturizer.create(BrownClusterFeaturizer.get_default_config(), storage,
                                               Resource("clusters"), context)

    def prepare(messages):
        spacy_nlp.process(messages, spacy_nlp.provide())
        tokenizer.process(messages)
        return messages

    return featurizer, prepare, storage, context


def _sentence_columns(message):
    from rasa.shared.nlu.constants import TEXT

    _, sentence = message.get_sparse_features(TEXT)
    return set(sentence.features.tocsr().indices)


def test_an_unseen_word_shares_features_with_a_trained_word_of_its_cluster(tmp_path, spacy_dir):
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    featurizer, prepare, storage, context = _featurizer(tmp_path, spacy_dir)
    training = TrainingData(prepare([Message(data={"text": "definitely", "intent": "affirm"}),
                                     Message(data={"text": "cancel it", "intent": "cancel_order"})]))
    featurizer.train(training)
    featurizer.process_training_data(training)

    loaded = BrownClusterFeaturizer.load(BrownClusterFeaturizer.get_default_config(), storage,
                                         Resource("clusters"), context)
    certainly, annul = prepare([Message(data={"text": "certainly"}), Message(data={"text": "annul it"})])
    loaded.process([certainly, annul])

    definitely_cols, cancel_cols = (_sentence_columns(m) for m in training.training_examples)
    assert _sentence_columns(certainly) & definitely_cols
    assert len(_sentence_columns(annul) & cancel_cols) > len(_sentence_columns(annul) & definitely_cols)


def test_sequence_features_have_one_row_per_token(tmp_path, spacy_dir):
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    featurizer, prepare, *_ = _featurizer(tmp_path, spacy_dir)
    training = TrainingData(prepare([Message(data={"text": "the seller cancelled my order", "intent": "x"})]))
    featurizer.train(training)
    featurizer.process_training_data(training)
    sequence, _ = training.training_examples[0].get_sparse_features(TEXT)
    assert sequence.features.shape[0] == 5


def test_a_bad_prefix_config_is_refused():
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException):
        BrownClusterFeaturizer.validate_config({"prefix_bits": ["four"]})
