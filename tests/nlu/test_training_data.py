"""The NLU training data: disjoint from the held-out set, no duplicates, enough per intent."""
from pathlib import Path

from orderdesk.nlp.check_data import check, normalise

DOMAIN = "version: '3.1'\nintents:\n  - greet\n  - cancel_order\n"
REGEX = "- regex: order_number\n  examples: |\n    - \\b\\d{12,19}\\b\n"


def _write(path: Path, body: str) -> Path:
    path.write_text('version: "3.1"\nnlu:\n' + body)
    return path


def _project(tmp_path: Path, train: str, heldout: str = ""):
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    _write(nlu / "data.yml", train + REGEX)
    held = _write(tmp_path / "heldout.yml", heldout)
    domain = tmp_path / "domain.yml"
    domain.write_text(DOMAIN)
    return dict(nlu_dir=nlu, heldout=[held], domain=domain, min_examples=1)


def test_the_project_training_data_passes_every_check():
    assert check() == []


def test_normalising_drops_entity_markup_case_and_spacing():
    assert normalise("Cancel  [8123456789012345](order_number) NOW") == "cancel 8123456789012345 now"


def test_a_training_example_that_is_also_held_out_is_reported(tmp_path):
    paths = _project(
        tmp_path,
        "- intent: greet\n  examples: |\n    - hi\n"
        "- intent: cancel_order\n  examples: |\n    - Cancel order [8123456789012345](order_number)\n",
        "- intent: cancel_order\n  examples: |\n    - cancel order 8123456789012345\n",
    )
    problems = check(**paths)
    assert len(problems) == 1 and "held-out" in problems[0] and "cancel_order" in problems[0]


def test_the_same_text_under_two_intents_is_reported(tmp_path):
    paths = _project(
        tmp_path,
        "- intent: greet\n  examples: |\n    - hello\n"
        "- intent: cancel_order\n  examples: |\n    - Hello\n",
    )
    assert any("duplicate of an example under intent greet" in p for p in check(**paths))


def test_an_intent_with_too_few_examples_is_reported(tmp_path):
    paths = _project(tmp_path, "- intent: greet\n  examples: |\n    - hi\n")
    assert check(**paths) == ["intent cancel_order: 0 examples, fewer than 1"]


def test_an_order_number_the_regex_would_not_find_is_reported(tmp_path):
    paths = _project(
        tmp_path,
        "- intent: greet\n  examples: |\n    - hi\n"
        "- intent: cancel_order\n  examples: |\n    - cancel [81234](order_number)\n",
    )
    assert any("does not match the order_number regex" in p for p in check(**paths))


def test_two_held_out_sets_that_share_a_message_are_reported(tmp_path):
    paths = _project(
        tmp_path,
        "- intent: greet\n  examples: |\n    - hi\n"
        "- intent: cancel_order\n  examples: |\n    - cancel it\n",
        "- intent: cancel_order\n  examples: |\n    - please cancel order 8123456789012345\n",
    )
    blind = _write(tmp_path / "blind.yml",
                   "- intent: cancel_order\n  examples: |\n    - Please cancel order [8123456789012345](order_number)\n")
    paths["heldout"] = paths["heldout"] + [blind]
    assert check(**paths) == ["held-out sets blind.yml and heldout.yml share 1 message(s)"]
