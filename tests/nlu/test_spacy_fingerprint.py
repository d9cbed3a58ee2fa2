"""Rasa's training cache follows the spaCy pipeline's files (orderdesk.nlp.spacy_nlp), so `rasa train`
without --force retrains what a rebuilt pipeline feeds, and nothing when only its path is the same."""
import shutil

import pytest

from orderdesk.nlp.build_spacy import DEFAULT_OUTDIR, build
from orderdesk.nlp.spacy_nlp import SpacyNLP, pipeline_fingerprint


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    copy = tmp_path_factory.mktemp("spacy") / "spacy_en_orderdesk"
    shutil.copytree(build(DEFAULT_OUTDIR), copy)
    return copy


def _key(model_dir) -> str:
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    return calculate_fingerprint_key(SpacyNLP, {**SpacyNLP.get_default_config(), "model": str(model_dir)}, {})


def test_the_same_files_give_the_same_fingerprint_wherever_they_are(pipeline, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(pipeline, moved)
    assert pipeline_fingerprint(str(pipeline)) == pipeline_fingerprint(str(moved))
    assert pipeline_fingerprint("en_core_web_md") is None  # a package name: its version identifies it


def test_a_changed_file_changes_the_components_key_and_the_models_fingerprint(pipeline, tmp_path):
    changed = tmp_path / "changed"
    shutil.copytree(pipeline, changed)
    before_key, before_model = _key(changed), SpacyNLP.load_model(str(changed)).fingerprint()
    meta = changed / "meta.json"
    meta.write_text(meta.read_text().replace('"orderdesk"', '"orderdesk2"', 1))

    assert _key(changed) != before_key
    assert SpacyNLP.load_model(str(changed)).fingerprint() != before_model
    assert _key(pipeline) == _key(pipeline)


def test_the_recipe_feeds_the_tokenizer_from_the_projects_spacy_nlp():
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe
    from rasa.shared.utils.io import read_config_file

    from orderdesk import ROOT

    config = read_config_file(str(ROOT / "config.yml"))
    graph = DefaultV1Recipe().graph_config_for_recipe(config, {}).train_schema
    providers = [n for n in graph.nodes.values() if n.uses is SpacyNLP]
    assert providers, "config.yml does not use orderdesk.nlp.spacy_nlp.SpacyNLP"
    tokenizer = next(n for n in graph.nodes.values() if n.uses.__name__ == "SpacyTokenizer")
    assert graph.nodes[tokenizer.needs["training_data"]].uses is SpacyNLP  # the docs spaCy made come from ours
