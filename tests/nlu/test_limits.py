"""The token limiter: a long message costs DIET a bounded amount, and its text stays whole."""
import pytest

from orderdesk.nlp.build_spacy import DEFAULT_OUTDIR, build
from orderdesk.nlp.limits import TokenLimiter, limit


def test_a_long_list_keeps_its_first_and_last_items():
    assert limit(list(range(10)), 3, 2) == [0, 1, 2, 8, 9]
    assert limit(list(range(10)), 4, 0) == [0, 1, 2, 3]


def test_a_list_within_the_limit_is_untouched():
    items = list(range(5))
    assert limit(items, 3, 2) is items


@pytest.mark.parametrize("config", [{"keep_first": -1, "keep_last": 4}, {"keep_first": 0, "keep_last": 0},
                                    {"keep_first": "64", "keep_last": 64}])
def test_a_bad_limit_is_refused(config):
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException):
        TokenLimiter(config)


def test_a_long_message_reaches_the_featurizers_as_its_first_and_last_tokens_with_its_text_whole(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.constants import TOKENS_NAMES
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    storage, context = LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "test")
    spacy_nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(build(DEFAULT_OUTDIR))},
                                storage, Resource("spacy"), context)
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage, Resource("tok"), context)
    limiter = TokenLimiter.create({"keep_first": 4, "keep_last": 3}, storage, Resource("limit"), context)

    text = "my parcel never came " + "blah " * 5000 + "where is order 8123456789012345"
    long, short = Message(data={TEXT: text}), Message(data={TEXT: "where is my parcel"})
    spacy_nlp.process([long, short], spacy_nlp.provide())
    tokenizer.process([long, short])
    limiter.process([long, short])

    assert [t.text for t in long.get(TOKENS_NAMES[TEXT])] == ["my", "parcel", "never", "came",
                                                              "is", "order", "8123456789012345"]
    assert long.get(TEXT) == text
    assert [t.text for t in short.get(TOKENS_NAMES[TEXT])] == ["where", "is", "my", "parcel"]
