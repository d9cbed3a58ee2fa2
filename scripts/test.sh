#!/usr/bin/env bash
# Every test: Rasa's data validation, the dialogue test stories under `rasa test`, then pytest, every tier
# (unit, db: store on SQLite and PostgreSQL, CLI, actions; rasa: NLU data and components; server: the running
# servers; timeshift: the clock-sensitive tests again with the clock a year ahead).
# `make test-fast` runs the unit and db tiers alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
MODEL=$($VENV/bin/python -m orderdesk.nlp.train)
export ORDERDESK_TEST_MODEL="$PWD/$(realpath --relative-to="$PWD" "$MODEL")"
mkdir -p results

echo "== rasa data validate (about 30 s)"
$VENV/bin/python -m orderdesk.nlp.validate

echo "== rasa test: dialogue test stories (tests/stories) with --fail-on-prediction-errors (about 1 minute)"
$VENV/bin/rasa test core --model "$MODEL" --stories tests/stories --fail-on-prediction-errors \
  --out results/stories --no-plot >results/rasa-test.log 2>&1 || {
  tail -n 60 results/rasa-test.log; echo "rasa test: failed stories are in results/stories/failed_test_stories.yml" >&2
  cat results/stories/failed_test_stories.yml 2>/dev/null | head -n 80 >&2; exit 1; }
grep -E "Correct:|Finished evaluating" results/rasa-test.log | tail -n 3 || true

# Two pytest runs side by side, one per core: the conversations over REST (tests/dialogues: one Rasa server,
# mostly waiting on it) and the year-ahead rerun (tests/test_clock_moved.py) in the background, every other
# tier in the foreground. Each has its own servers, ports and databases; the background run's output is
# printed when it ends, and either run failing fails the command.
echo "== pytest: every tier, in two runs side by side (about 10-15 minutes on 2 cores)"
BACKGROUND=(tests/dialogues tests/test_clock_moved.py)
$VENV/bin/python -m pytest -q "${BACKGROUND[@]}" >results/pytest-background.log 2>&1 &
background=$!
status=0
$VENV/bin/python -m pytest -q tests "${BACKGROUND[@]/#/--ignore=}" || status=$?
echo "== pytest (background): ${BACKGROUND[*]}"
wait "$background" || status=$?
cat results/pytest-background.log
exit "$status"
