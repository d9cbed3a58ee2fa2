"""Train the Rasa model only when its inputs changed.

The model is named by a hash of everything that shapes it (data/, domain.yml,
config.yml, the spaCy pipeline builder, Rasa's version), so an unchanged
project reuses `models/orderdesk-<hash>.tar.gz` and a changed one trains anew.

    python -m orderdesk.nlp.train              # train if needed, print the model path
    python -m orderdesk.nlp.train --print-path # only print the path it would use
"""
from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

from orderdesk import ROOT

INPUTS = ("data", "domain.yml", "config.yml", "orderdesk/nlp/build_spacy.py", "orderdesk/nlp/clusters.py",
          "orderdesk/nlp/limits.py", "orderdesk/nlp/spacy_nlp.py", "orderdesk/nlp/gate.py", "orderdesk/nlp/cues.py")
KEEP = 3


def inputs_hash(root: Path = ROOT) -> str:
    h = hashlib.sha256()
    try:
        from importlib.metadata import version

        h.update(f"rasa=={version('rasa')}\n".encode())
    except Exception:  # pragma: no cover - rasa is a dependency
        pass
    for name in INPUTS:
        p = root / name
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            h.update(str(f.relative_to(root)).encode() + b"\0")
            h.update(f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def model_path(root: Path = ROOT) -> Path:
    return root / "models" / f"orderdesk-{inputs_hash(root)}.tar.gz"


def train(root: Path = ROOT) -> Path:
    target = model_path(root)
    if target.exists():
        return target
    from .build_spacy import build

    build(root / "models" / "spacy_en_orderdesk")
    cmd = [sys.executable, "-m", "orderdesk.nlp.rasa_cli", "train", "--data", "data", "--domain", "domain.yml",
           "--config", "config.yml", "--out", "models", "--fixed-model-name", target.name[: -len(".tar.gz")]]
    # No --force: Rasa's cache (.rasa/cache) reuses every component whose inputs did not change
    # (orderdesk.nlp.spacy_nlp fingerprints the spaCy pipeline by its files), so a wording edit in
    # domain.yml retrains in seconds; a fresh clone trains everything (about 3 minutes on 2 quiet cores).
    print("training the Rasa model (inputs changed):", "rasa", " ".join(cmd[4:]), file=sys.stderr)
    subprocess.run(cmd, cwd=root, check=True, stdout=sys.stderr)
    old = sorted((root / "models").glob("orderdesk-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for stale in old[KEEP:]:
        stale.unlink()
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--print-path", action="store_true", help="print the model path without training")
    args = ap.parse_args()
    print(model_path() if args.print_path else train())
    return 0


if __name__ == "__main__":
    sys.exit(main())
