"""The NLU regexes (run by RegexFeaturizer and RegexEntityExtractor on every message) are linear: a
message without spaces costs time in proportion to its length, not its square. The old email pattern
took 64 s on 100 KB (about 30 s per pass); a linear one takes milliseconds. The bound below is a guard
with a wide margin (a loaded machine cannot reach it), not a speed target: ratios of timings proved too
noisy on two shared cores."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LENGTH = 100_000
BOUND = 1.0  # seconds per pass; linear patterns take 1-20 ms here, the old email pattern 30 s
ADVERSARIAL = ("a", "1", "a@", "a@a.", "a.", "@", "A1", "a-", " a@a")


def patterns() -> list[tuple[str, str]]:
    out = []
    for f in sorted((ROOT / "data").rglob("*.yml")):
        for item in (yaml.safe_load(f.read_text(encoding="utf-8")) or {}).get("nlu", []) or []:
            if "regex" in item:
                out += [(item["regex"], line[2:].strip()) for line in item["examples"].splitlines()
                        if line.strip().startswith("- ")]
    return out


def seconds(pattern: re.Pattern, text: str, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for _ in pattern.finditer(text):
            pass
        best = min(best, time.perf_counter() - start)
    return best


def test_the_data_has_the_regexes_the_pipeline_relies_on():
    names = {name for name, _ in patterns()}
    assert {"email", "order_number", "tracking_number"} <= names


@pytest.mark.parametrize("name,pattern", patterns())
def test_each_regex_is_linear_on_messages_without_spaces(name, pattern):
    compiled = re.compile(pattern, re.IGNORECASE)  # as case_sensitive: false in config.yml
    for unit in ADVERSARIAL:
        took = seconds(compiled, unit * (LENGTH // len(unit)), runs=1)
        assert took < BOUND, (name, unit, took)


def test_the_email_regex_still_finds_emails():
    email = [p for n, p in patterns() if n == "email"]
    found = [m.group() for p in email for m in re.finditer(p, "mail: ana.silva@example.com, or tom+x@mail.co.uk.",
                                                             re.IGNORECASE)]
    assert found == ["ana.silva@example.com", "tom+x@mail.co.uk"]
