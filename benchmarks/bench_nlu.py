"""NLU figures: parse latency for ordinary messages and the cost of very long ones.

    .venv/bin/python benchmarks/bench_nlu.py [--model models/orderdesk-<hash>.tar.gz] [--repeat 3]

Loads the trained model (default: the one for the current inputs; `make model` trains it),
parses every message of tests/nlu/blind.yml `--repeat` times, then messages of 1,000 to
50,000 characters, and prints latency and the process's peak memory (RSS) after each.
Asserts nothing: targets are read by people, not by tests.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(ROOT))

LONG = "my parcel never arrived and the seller does not answer my messages, "


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(model: Path, repeat: int) -> None:
    import logging

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # not a debug line per parse
    logging.getLogger().setLevel(logging.WARNING)

    t0 = time.perf_counter()
    agent = Agent.load(str(model))
    print(f"model {model.name}: loaded in {time.perf_counter() - t0:.1f} s, peak RSS {peak_rss_mb():.0f} MB")
    await agent.parse_message("hello")  # the first parse builds TensorFlow's graph

    messages = [m.get("text") for m in load_data(str(ROOT / "tests" / "nlu" / "blind.yml")).nlu_examples]
    times = []
    for _ in range(repeat):
        for text in messages:
            t = time.perf_counter()
            await agent.parse_message(text)
            times.append((time.perf_counter() - t) * 1000)
    print(f"ordinary messages ({len(messages)} x {repeat}): p50 {statistics.median(times):.1f} ms, "
          f"p95 {pct(times, 0.95):.1f} ms, max {max(times):.1f} ms; {1000 / statistics.mean(times):.0f} parses/s")

    print("long messages (characters, words, parse time, intent, peak RSS so far):")
    for n in (1_000, 10_000, 50_000, 200_000):
        text = (LONG * (n // len(LONG) + 1))[:n]
        t = time.perf_counter()
        parsed = await agent.parse_message(text)
        print(f"  {n:>7,} chars {len(text.split()):>6,} words  {(time.perf_counter() - t) * 1000:8.0f} ms  "
              f"{parsed['intent']['name']:<22} {peak_rss_mb():6.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a trained model (default: the current one)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from orderdesk.nlp.train import model_path

    model = args.model or model_path()
    if not model.exists():
        print(f"no model at {model}: run `make model` first", file=sys.stderr)
        return 2
    asyncio.run(run(model, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
