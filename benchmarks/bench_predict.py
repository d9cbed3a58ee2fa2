"""The cost of one action prediction at the end of a long session, in process: Rasa's own computation, with the
states window (orderdesk.servers.states), and with TED's shortcut too (orderdesk.servers.prediction).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_predict.py [--rounds 1,6]

The sessions are the test and training stories played one after another (tests/scale/test_state_window.py);
each figure is the median over the session's last 30 predictions. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "scale")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", default="1,6", help="how many times the stories are played in one session")
    args = parser.parse_args()
    import test_state_window as t
    from rasa.core.agent import Agent

    from orderdesk.nlp.train import model_path
    from orderdesk.servers import prediction, states

    agent = Agent.load(str(model_path()))
    domain = agent.domain
    for rounds in (int(r) for r in args.rounds.split(",")):
        events = t.long_conversation(domain, rounds)
        trackers = [t._tracker(domain, events[:end]) for end in t._action_positions(events, 30)]
        for mode in ("rasa", "window", "window+ted"):
            states.uninstall()
            prediction.uninstall()
            if mode != "rasa":
                states.install()
            if mode == "window+ted":
                prediction.install()
            took = []
            for tracker in trackers:
                start = time.perf_counter()
                agent.processor._predict_next_with_tracker(tracker)
                took.append((time.perf_counter() - start) * 1000)
            print(f"session of {len(events)} events, {mode:10}: {statistics.median(took):.1f} ms a prediction",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
