"""Build the project-owned English spaCy pipeline used by Rasa's `SpacyNLP`.

No model hub is reachable, so the pipeline is assembled from parts that ship as
Python packages:

  * `spacy.blank("en")`           tokenizer only, no vectors
  * `lemmatizer` (mode "lookup")  tables from the `spacy-lookups-data` package
                                   ("cancelled" -> "cancel", "orders" -> "order")
  * `entity_ruler`                token patterns for ORDER_NUMBER and TRACKING_NUMBER
  * `lexeme_cluster` lookups      English Brown clusters from `spacy-lookups-data`
                                   (190,000 words in 1,000 classes), read through
                                   `Token.cluster` by orderdesk.nlp.clusters

The lookup tables and the ruler patterns are written into the saved directory,
so loading it later needs neither `spacy-lookups-data` nor this module.

Usage:
    python -m orderdesk.nlp.build_spacy [OUTDIR] [--force]

The build is skipped when OUTDIR already holds a complete pipeline that is newer
than this script (use --force to rebuild). The directory is written to a
temporary sibling and renamed into place, so a crash never leaves a half-built
pipeline behind.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List

from orderdesk import ROOT

DEFAULT_OUTDIR = ROOT / "models" / "spacy_en_orderdesk"
PIPELINE_NAME = "orderdesk_en"
PIPELINE_VERSION = "1.0.0"

ORDER_NUMBER = "ORDER_NUMBER"
TRACKING_NUMBER = "TRACKING_NUMBER"

# Files that must exist for a saved pipeline to count as complete.
_REQUIRED = ("config.cfg", "meta.json", "entity_ruler/patterns.jsonl", "vocab/lookups.bin")

# Rasa's SpacyNLP lower-cases the text it hands to spaCy (case_sensitive: false)
# while SpacyEntityExtractor passes the original text: every pattern is
# case-insensitive so both paths match the same tokens.
# The whole number has to be one token: spaCy's English tokenizer keeps a run of
# digits/letters together and splits off surrounding punctuation ("#", ",", ".").
PATTERNS: List[Dict[str, Any]] = [
    # Marketplace order numbers: 12-19 digits.
    {
        "label": ORDER_NUMBER,
        "id": "order_number_digits",
        "pattern": [{"TEXT": {"REGEX": r"^\d{12,19}$"}}],
    },
    # UPU S10: 2 letters, 8 digits + 1 check digit, 2-letter country (RB123456789CN).
    {
        "label": TRACKING_NUMBER,
        "id": "tracking_s10",
        "pattern": [{"TEXT": {"REGEX": r"(?i)^[a-z]{2}\d{9}[a-z]{2}$"}}],
    },
    # Consolidators / marketplace logistics: LP, YT, CAINIAO, LT, UB + 9-18 digits.
    {
        "label": TRACKING_NUMBER,
        "id": "tracking_prefixed",
        "pattern": [{"TEXT": {"REGEX": r"(?i)^(?:lp|yt|cainiao|lt|ub)\d{9,18}$"}}],
    },
]


# Extra tokenizer infixes so a number glued to a label still becomes its own token:
# "order:8123456789012345", "no.812345678901", "order#8123456789012345".
EXTRA_INFIXES: List[str] = [
    r"(?<=[A-Za-z])[:#=](?=[0-9])",
    r"(?<=[A-Za-z]{2})\.(?=[0-9])",
]


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # pragma: no cover
        return "unknown"


def add_clusters(nlp) -> int:
    """Copy the English Brown clusters into the vocabulary (only words that have one).

    `Token.cluster` then reads them; the saved pipeline carries the table, so loading
    it needs no `spacy-lookups-data`. Returns the number of words stored.
    """
    from spacy.lookups import load_lookups

    source = load_lookups("en", ["lexeme_cluster"]).get_table("lexeme_cluster")
    table = nlp.vocab.lookups.add_table("lexeme_cluster")
    for key, cluster in source.items():
        if cluster:
            table.set(key, cluster)
    return len(table)


def make_nlp():
    """Assemble and initialise the pipeline in memory (not saved)."""
    import spacy

    try:
        import spacy_lookups_data  # noqa: F401  (provides the lemma tables)
    except ImportError as exc:  # pragma: no cover - environment problem
        raise SystemExit(
            "spacy-lookups-data is not installed; "
            "run: .venv/bin/pip install spacy-lookups-data==1.0.5"
        ) from exc

    nlp = spacy.blank("en")
    infixes = list(nlp.Defaults.infixes) + EXTRA_INFIXES
    nlp.tokenizer.infix_finditer = spacy.util.compile_infix_regex(infixes).finditer
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    # overwrite_ents: the ruler is the only thing setting ents; phrase_matcher_attr
    # is irrelevant (token patterns only).
    nlp.add_pipe("entity_ruler", config={"overwrite_ents": True, "validate": True})
    nlp.initialize()
    # Trap: EntityRuler.initialize() clears its patterns, so they are added only
    # after nlp.initialize(). (Passing them through [initialize.components] does
    # not work either: confection's interpolation mangles the "$" in the regexes.)
    ruler = nlp.get_pipe("entity_ruler")
    ruler.add_patterns(PATTERNS)
    if len(ruler) != len(PATTERNS):  # defensive: the trap above
        raise RuntimeError(f"entity_ruler has {len(ruler)} patterns, expected {len(PATTERNS)}")

    add_clusters(nlp)

    nlp.meta["name"] = PIPELINE_NAME
    nlp.meta["version"] = PIPELINE_VERSION
    nlp.meta["description"] = (
        "Blank English tokenizer + lookup lemmatizer (spacy-lookups-data) + "
        "entity_ruler for ORDER_NUMBER / TRACKING_NUMBER + Brown clusters "
        "(spacy-lookups-data). Built by orderdesk.nlp.build_spacy; no vectors."
    )
    nlp.meta["author"] = "orderdesk"
    nlp.meta["license"] = "MIT"
    nlp.meta["sources"] = [
        {"name": "spacy-lookups-data", "version": _dist_version("spacy-lookups-data")}
    ]
    return nlp


def is_up_to_date(outdir: Path) -> bool:
    """True if OUTDIR holds a complete pipeline newer than this script."""
    outdir = Path(outdir)
    try:
        built = min((outdir / name).stat().st_mtime for name in _REQUIRED)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return built >= Path(__file__).stat().st_mtime


def build(outdir: Path = DEFAULT_OUTDIR, force: bool = False) -> Path:
    """Build the pipeline into OUTDIR (skipped if up to date) and return OUTDIR."""
    outdir = Path(outdir).resolve()
    if not force and is_up_to_date(outdir):
        return outdir

    nlp = make_nlp()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", dir=outdir.parent))
    tmp.chmod(0o755)  # mkdtemp makes it 0700
    try:
        nlp.to_disk(tmp)
        old = None
        if outdir.exists():
            old = outdir.with_name(f".{outdir.name}.old.{os.getpid()}")
            os.replace(outdir, old)
        os.replace(tmp, outdir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return outdir


def main(argv: List[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orderdesk.nlp.build_spacy", description=__doc__.split("\n")[0]
    )
    parser.add_argument("outdir", nargs="?", type=Path, default=DEFAULT_OUTDIR)
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)

    was_current = not args.force and is_up_to_date(args.outdir)
    path = build(args.outdir, force=args.force)
    print(f"{'up to date' if was_current else 'built'}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
