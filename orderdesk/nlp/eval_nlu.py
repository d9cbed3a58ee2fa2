"""Compare NLU pipelines on the held-out set.

    python -m orderdesk.nlp.eval_nlu [--config NAME=PATH ...] [--plot] [--keep-models]

Builds the project spaCy pipeline if it is missing, then for each config (default:
the project's `config.yml` and Rasa's `rasa init` pipeline, written to
`tests/nlu/config_rasa_default.yml`):

  rasa train nlu --config C --nlu data/nlu --out <tmp>
  rasa test nlu  --nlu tests/nlu/<set>.yml --model <tmp>/<name>.tar.gz --out results/nlu/<name>/<set>

for both held-out sets: `heldout` (the one error analysis has looked at, so in effect a
development set) and `blind` (written independently of the training data and never
tuned against: the honest figure). For each it prints intent accuracy, macro-F1,
weighted-F1, entity macro-F1 per extractor, training seconds and the most frequent
intent confusions. A summary is written to
`results/nlu/summary.json` and `results/nlu/summary.md`.

Exit status is non-zero only when something crashes (a rasa command fails, a report
is missing); low scores are reported, not failed on.

Every rasa run gets its own empty training cache (RASA_CACHE_DIRECTORY) so the
timings are cold and a rebuilt spaCy pipeline is never hidden by a cached
featurizer (Rasa fingerprints SpacyNLP by its config, not by the files).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from orderdesk import ROOT

NLU_DATA = ROOT / "data" / "nlu"
HELDOUT = ROOT / "tests" / "nlu" / "heldout.yml"
BLIND = ROOT / "tests" / "nlu" / "blind.yml"
TEST_SETS = {"heldout": HELDOUT, "blind": BLIND}
PROJECT_CONFIG = ROOT / "config.yml"
DEFAULT_CONFIG = ROOT / "tests" / "nlu" / "config_rasa_default.yml"
RESULTS = ROOT / "results" / "nlu"

# The NLU pipeline `rasa init` (3.6) generates, uncommented.
RASA_DEFAULT_CONFIG = """\
# Rasa 3.6's default NLU pipeline (what `rasa init` generates), used as the
# baseline by `python -m orderdesk.nlp.eval_nlu`. Written by that script.
recipe: default.v1
language: en
assistant_id: orderdesk_baseline

pipeline:
  - name: WhitespaceTokenizer
  - name: RegexFeaturizer
  - name: LexicalSyntacticFeaturizer
  - name: CountVectorsFeaturizer
  - name: CountVectorsFeaturizer
    analyzer: char_wb
    min_ngram: 1
    max_ngram: 4
  - name: DIETClassifier
    epochs: 100
    constrain_similarities: true
  - name: EntitySynonymMapper
  - name: ResponseSelector
    epochs: 100
    constrain_similarities: true
  - name: FallbackClassifier
    threshold: 0.3
    ambiguity_threshold: 0.1
"""

_AGGREGATE_KEYS = {"accuracy", "micro avg", "macro avg", "weighted avg", "no_entity"}


def write_default_config(path: Path = DEFAULT_CONFIG) -> Path:
    """Write the baseline config (only if its content changed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != RASA_DEFAULT_CONFIG:
        path.write_text(RASA_DEFAULT_CONFIG)
    return path


def _rasa_env(cache_dir: Path) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        RASA_CACHE_DIRECTORY=str(cache_dir),
        TF_CPP_MIN_LOG_LEVEL="2",
        SQLALCHEMY_SILENCE_UBER_WARNING="1",
        PYTHONWARNINGS="ignore",
    )
    return env


def _run(cmd: List[str], log: Path, env: Dict[str, str]) -> float:
    """Run a command from the project root, output to LOG; return wall seconds."""
    start = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT
        )
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(
            f"command failed ({proc.returncode}): {' '.join(cmd)}\n"
            f"log: {log}\n--- last lines ---\n{tail}"
        )
    return seconds


def _f(x: Optional[float]) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def entity_macro_f1(report: Dict[str, Any]) -> Tuple[Optional[float], Dict[str, float]]:
    """Macro-F1 over the entity labels with support in the test set."""
    per_label = {
        k: v["f1-score"]
        for k, v in report.items()
        if k not in _AGGREGATE_KEYS and isinstance(v, dict) and v.get("support", 0) > 0
    }
    if not per_label:
        return None, {}
    return sum(per_label.values()) / len(per_label), per_label


def confusions(errors_file: Path) -> List[Tuple[str, str, int]]:
    """(gold, predicted, count) from intent_errors.json, most frequent first."""
    if not errors_file.exists():
        return []
    errors = json.loads(errors_file.read_text())
    counter = collections.Counter(
        (e["intent"], (e.get("intent_prediction") or {}).get("name") or "None")
        for e in errors
    )
    return [(g, p, n) for (g, p), n in counter.most_common()]


def low_confidence_rate(out: Path, threshold: float) -> Optional[float]:
    """Share of held-out messages whose top intent confidence is below THRESHOLD.

    `rasa test` undoes the FallbackClassifier's prediction before scoring, so the
    accuracy above is top-1 accuracy; this tells how often the bot would answer with
    nlu_fallback instead (ambiguity fallbacks not counted).
    """
    rows: List[Dict[str, Any]] = []
    for f in ("intent_successes.json", "intent_errors.json"):
        if (out / f).exists():
            rows += json.loads((out / f).read_text())
    if not rows:
        return None
    low = sum(1 for r in rows if (r.get("intent_prediction") or {}).get("confidence", 0) < threshold)
    return low / len(rows)


def spacy_ruler_scores(spacy_dir: Path, heldout: Path = HELDOUT) -> Dict[str, Any]:
    """Score the spaCy entity_ruler on the held-out entities it is meant to cover.

    `rasa test` drops SpacyEntityExtractor's entities (it is a "pretrained"
    extractor), so it is scored here directly, the way SpacyEntityExtractor runs it:
    on the original text, entity name = the ruler's label (ORDER_NUMBER ->
    order_number for the comparison). Exact (start, end, label) matches.
    """
    import spacy
    from rasa.shared.nlu.training_data.loading import load_data

    nlp = spacy.load(spacy_dir)
    labels = ("order_number", "tracking_number")
    tp = collections.Counter()
    fp = collections.Counter()
    fn = collections.Counter()
    for msg in load_data(str(heldout)).nlu_examples:
        text = msg.get("text")
        gold = {(e["start"], e["end"], e["entity"]) for e in msg.get("entities") or []
                if e["entity"] in labels}
        pred = {(e.start_char, e.end_char, e.label_.lower()) for e in nlp(text).ents
                if e.label_.lower() in labels}
        for _, _, lab in gold & pred:
            tp[lab] += 1
        for _, _, lab in pred - gold:
            fp[lab] += 1
        for _, _, lab in gold - pred:
            fn[lab] += 1
    per_label = {}
    for lab in labels:
        if tp[lab] + fn[lab] == 0:
            continue
        p = tp[lab] / (tp[lab] + fp[lab]) if tp[lab] + fp[lab] else 0.0
        r = tp[lab] / (tp[lab] + fn[lab])
        per_label[lab] = 2 * p * r / (p + r) if p + r else 0.0
    macro = sum(per_label.values()) / len(per_label) if per_label else None
    return {"macro_f1": macro, "per_label_f1": per_label,
            "counts": {lab: {"tp": tp[lab], "fp": fp[lab], "fn": fn[lab]} for lab in labels}}


def fallback_threshold(config: Path) -> Optional[float]:
    import yaml

    data = yaml.safe_load(config.read_text()) or {}
    for comp in data.get("pipeline") or []:
        if comp.get("name") == "FallbackClassifier":
            return float(comp.get("threshold", 0.3))
    return None


def score(name: str, out: Path, config: Path, train_s: float, test_s: float) -> Dict[str, Any]:
    """Read the reports `rasa test nlu` wrote to OUT."""
    report_file = out / "intent_report.json"
    if not report_file.exists():
        raise RuntimeError(f"[{name}] {report_file} missing")
    report = json.loads(report_file.read_text())

    entities: Dict[str, Dict[str, Any]] = {}
    for f in sorted(out.glob("*_report.json")):
        extractor = f.name[: -len("_report.json")]
        if extractor in ("intent", "response_selection"):
            continue
        macro, per_label = entity_macro_f1(json.loads(f.read_text()))
        entities[extractor] = {"macro_f1": macro, "per_label_f1": per_label}

    per_intent = {
        k: {m: v[m] for m in ("precision", "recall", "f1-score", "support")}
        for k, v in report.items()
        if k not in _AGGREGATE_KEYS and isinstance(v, dict)
    }
    threshold = fallback_threshold(config)
    return {
        "name": name,
        "config": str(config.relative_to(ROOT) if config.is_relative_to(ROOT) else config),
        "intent_accuracy": report.get("accuracy"),
        "intent_macro_f1": report.get("macro avg", {}).get("f1-score"),
        "intent_weighted_f1": report.get("weighted avg", {}).get("f1-score"),
        "entities": entities,
        "fallback_threshold": threshold,
        "below_fallback_threshold": low_confidence_rate(out, threshold) if threshold is not None else None,
        "train_seconds": round(train_s, 1),
        "test_seconds": round(test_s, 1),
        "confusions": confusions(out / "intent_errors.json"),
        "per_intent": per_intent,
        "results_dir": str(out),
    }


def evaluate(name: str, config: Path, keep_models: bool, plot: bool,
             test_sets: Dict[str, Path] = TEST_SETS) -> List[Dict[str, Any]]:
    """Train CONFIG once, test it on every held-out set; one result per set."""
    base = RESULTS / name
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    work = Path(tempfile.mkdtemp(prefix=f"orderdesk-nlu-{name}-"))
    results = []
    try:
        env = _rasa_env(work / "cache")
        models = work / "models"
        rasa = [sys.executable, "-m", "rasa"]
        print(f"[{name}] training with {config} ...", flush=True)
        train_s = _run(
            rasa + ["train", "nlu", "--config", str(config), "--nlu", str(NLU_DATA),
                    "--out", str(models), "--fixed-model-name", name],
            base / "train.log", env,
        )
        model = models / f"{name}.tar.gz"
        if not model.exists():
            raise RuntimeError(f"[{name}] no model at {model}")
        print(f"[{name}] trained in {train_s:.0f}s", flush=True)
        for set_name, test_file in test_sets.items():
            out = base / set_name
            out.mkdir()
            print(f"[{name}] testing on {test_file.name} ...", flush=True)
            test_cmd = rasa + ["test", "nlu", "--nlu", str(test_file), "--model", str(model),
                               "--out", str(out), "--successes"]
            if not plot:
                test_cmd.append("--no-plot")
            test_s = _run(test_cmd, out / "test.log", env)
            result = score(name, out, config, train_s, test_s)
            result["test_set"] = set_name
            results.append(result)
        if keep_models:
            shutil.copy2(model, base / model.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def render(results: List[Dict[str, Any]]) -> str:
    extractors = sorted({e for r in results for e in r["entities"]})
    head = ["config", "test set", "intent acc", "macro-F1", "weighted-F1"]
    head += [f"ent macro-F1 {e}" for e in extractors] + ["< fallback thr", "train s"]
    rows = []
    for r in results:
        row = [r["name"], r.get("test_set", "-"), _f(r["intent_accuracy"]), _f(r["intent_macro_f1"]),
               _f(r["intent_weighted_f1"])]
        row += [_f(r["entities"].get(e, {}).get("macro_f1")) for e in extractors]
        thr = r.get("fallback_threshold")
        row.append("n/a" if thr is None else f"{_f(r.get('below_fallback_threshold'))} @{thr:g}")
        row.append(f"{r['train_seconds']:.0f}")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    line = lambda cells: "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    for r in results:
        out.append("")
        out.append(f"{r['name']} on {r.get('test_set', '-')}: intent confusions (gold -> predicted: count)")
        if not r["confusions"]:
            out.append("  none")
        for g, p, n in r["confusions"][:15]:
            out.append(f"  {g} -> {p}: {n}")
        weak = sorted(
            (v["f1-score"], k) for k, v in r["per_intent"].items() if v["f1-score"] < 0.95
        )
        if weak:
            out.append("  intents with F1 < 0.95: " + ", ".join(f"{k} ({f:.2f})" for f, k in weak))
        for e, v in sorted(r["entities"].items()):
            labels = ", ".join(f"{k} {f:.2f}" for k, f in sorted(v["per_label_f1"].items()))
            out.append(f"  entities {e}: {labels or 'no labels'}")
    return "\n".join(out)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orderdesk.nlp.eval_nlu")
    parser.add_argument(
        "--config", action="append", metavar="NAME=PATH",
        help="evaluate these configs instead of the two defaults (repeatable)",
    )
    parser.add_argument("--plot", action="store_true", help="let rasa render plots")
    parser.add_argument("--keep-models", action="store_true",
                        help="copy the trained models into the results dirs")
    args = parser.parse_args(argv)

    from orderdesk.nlp.build_spacy import DEFAULT_OUTDIR, build

    spacy_dir = build(DEFAULT_OUTDIR)  # no-op when up to date
    write_default_config()
    for p in (NLU_DATA, *TEST_SETS.values()):
        if not p.exists():
            raise SystemExit(f"missing {p}")

    if args.config:
        configs = []
        for item in args.config:
            name, _, path = item.partition("=")
            if not path:
                parser.error(f"--config wants NAME=PATH, got {item!r}")
            configs.append((name, Path(path).resolve()))
    else:
        configs = [("project", PROJECT_CONFIG), ("rasa_default", DEFAULT_CONFIG)]

    RESULTS.mkdir(parents=True, exist_ok=True)
    results = [r for n, c in configs for r in evaluate(n, c, args.keep_models, args.plot)]
    for r in results:
        if "SpacyEntityExtractor" in Path(ROOT / r["config"]).read_text():
            r["entities"]["SpacyEntityExtractor"] = spacy_ruler_scores(spacy_dir, TEST_SETS[r["test_set"]])
    table = render(results)
    print()
    print(table)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    suffix = "" if not args.config else "_" + "_".join(n for n, _ in configs)
    (RESULTS / f"summary{suffix}.json").write_text(
        json.dumps({"generated": stamp, "results": results}, indent=2)
    )
    (RESULTS / f"summary{suffix}.md").write_text(f"# NLU evaluation ({stamp})\n\n{table}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
