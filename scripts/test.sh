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

echo "== pytest: every tier (about 5 minutes on 2 cores: the servers load the model, the year-ahead rerun)"
$VENV/bin/python -m pytest -q tests
