"""Checks on the NLU training data that `rasa data validate` does not make.

    python -m orderdesk.nlp.check_data

- no training example is also a held-out message (tests/nlu/heldout.yml, the set tuned
  against, and tests/nlu/blind.yml, written independently and never tuned against),
  compared after lower-casing, dropping entity markup and squeezing spaces: a leak would
  make `make eval` measure memory, not generalisation. Only the offending *training*
  lines are printed, so the check can be run without reading the held-out sets; the two
  held-out sets share no message either;
- no text appears twice in the training data (under one intent or two);
- every intent the domain declares has at least MIN_EXAMPLES examples;
- annotated order numbers match the order_number regex and are not also tracking
  numbers or amounts.

Exit status 1 with one line per problem, 0 when clean.
"""
from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, Iterable, List, Sequence, Tuple

from orderdesk import ROOT

NLU_DIR = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
BLIND = ROOT / "tests" / "nlu" / "blind.yml"
HELDOUT_SETS = (HELDOUT, BLIND)
DOMAIN = ROOT / "domain.yml"
MIN_EXAMPLES = 30

_ENTITY = re.compile(r"\[([^\]]*)\]\((\w+)\)|\[([^\]]*)\]\{[^}]*\}")


def plain(text: str) -> str:
    """Example text without entity markup."""
    return _ENTITY.sub(lambda m: m.group(1) if m.group(1) is not None else m.group(3), text)


def normalise(text: str) -> str:
    return " ".join(plain(text).lower().split())


def examples(path: Path) -> Iterable[Tuple[str, str]]:
    """(intent, raw example) pairs from one Rasa NLU YAML file."""
    import yaml

    data = yaml.safe_load(path.read_text()) or {}
    for item in data.get("nlu") or []:
        if "intent" not in item:
            continue
        for line in str(item.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield item["intent"], line[2:].strip()


def regexes(paths: Iterable[Path]) -> Dict[str, List[str]]:
    import yaml

    out: Dict[str, List[str]] = {}
    for path in paths:
        for item in (yaml.safe_load(path.read_text()) or {}).get("nlu") or []:
            if "regex" in item:
                out[item["regex"]] = [
                    line.strip()[2:] for line in str(item["examples"]).splitlines()
                    if line.strip().startswith("- ")
                ]
    return out


def check(nlu_dir: Path = NLU_DIR, heldout: Sequence[Path] = HELDOUT_SETS, domain: Path = DOMAIN,
          min_examples: int = MIN_EXAMPLES) -> List[str]:
    import yaml

    problems: List[str] = []
    files = sorted(nlu_dir.glob("*.yml"))
    seen: Dict[str, Tuple[str, str]] = {}
    per_intent: Dict[str, int] = defaultdict(int)
    order_res = [re.compile(p) for p in regexes(files).get("order_number", [])]
    for path in files:
        for intent, raw in examples(path):
            per_intent[intent] += 1
            key = normalise(raw)
            if key in seen:
                other_intent, other_file = seen[key]
                where = "the same intent" if other_intent == intent else f"intent {other_intent}"
                problems.append(f"{path.name}: {intent}: duplicate of an example under {where} "
                                f"in {other_file}: {raw!r}")
            else:
                seen[key] = (intent, path.name)
            for m in _ENTITY.finditer(raw):
                value, entity = m.group(1), m.group(2)
                if entity == "order_number" and order_res and not any(r.search(value) for r in order_res):
                    problems.append(f"{path.name}: {intent}: order_number {value!r} "
                                    f"does not match the order_number regex: {raw!r}")
    held_by_set: Dict[str, set] = {}
    for held_path in heldout:
        if held_path.exists():
            held_by_set[held_path.name] = {normalise(raw) for _, raw in examples(held_path)}
    for path in files:
        for intent, raw in examples(path):
            for set_name, held in held_by_set.items():
                if normalise(raw) in held:
                    problems.append(f"{path.name}: {intent}: also in the held-out set {set_name}, "
                                    f"remove or reword it: {raw!r}")
    names = sorted(held_by_set)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            shared = len(held_by_set[a] & held_by_set[b])
            if shared:
                problems.append(f"held-out sets {a} and {b} share {shared} message(s)")
    declared = (yaml.safe_load(domain.read_text()) or {}).get("intents") or []
    for intent in declared:
        name = intent if isinstance(intent, str) else next(iter(intent))
        if per_intent.get(name, 0) < min_examples:
            problems.append(f"intent {name}: {per_intent.get(name, 0)} examples, "
                            f"fewer than {min_examples}")
    return problems


def main() -> int:
    problems = check()
    for p in problems:
        print("check_data:", p, file=sys.stderr)
    if problems:
        print(f"NLU data: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    total = sum(1 for f in NLU_DIR.glob("*.yml") for _ in examples(f))
    print(f"NLU data: clean ({total} examples)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
