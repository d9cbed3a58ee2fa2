"""Rasa's `SpacyNLP`, fingerprinted by the files of the spaCy pipeline instead of its path.

Rasa's training cache keys every component by its config and its inputs' fingerprints; stock
`SpacyNLP` fingerprints the pipeline by its name (`models/spacy_en_orderdesk`), so a rebuilt
pipeline under the same path would reuse stale tokens and features, and the project had to train
with `--force`, retraining everything (3.5-4.5 minutes) for any change, even a response's wording.
This component adds the hash of the pipeline's files to its own fingerprint (`fingerprint_addon`)
and to the fingerprint of the model it provides, so `rasa train` without `--force` reruns exactly
the components downstream of a changed pipeline and reuses everything else.

Same class name as Rasa's (the recipe finds the spaCy provider of `SpacyTokenizer` by that name).
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, Optional, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.nlu.utils.spacy_utils import SpacyNLP as RasaSpacyNLP


def pipeline_fingerprint(model: Text) -> Optional[str]:
    """A hash of every file of the pipeline directory `model` (None when it is not a directory:
    an installed package such as `en_core_web_md`, which its version already identifies)."""
    root = Path(model)
    if not root.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(RasaSpacyNLP):
    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        return pipeline_fingerprint(config.get("model") or "")

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        loaded = RasaSpacyNLP.load_model(spacy_model_name)
        files = pipeline_fingerprint(spacy_model_name)
        # The provided model's fingerprint is its name: with the files' hash in it, every
        # component fed by the pipeline retrains when the files change, and only then.
        name = f"{spacy_model_name}@{files}" if files else spacy_model_name
        return SpacyModel(model=loaded.model, model_name=name)
