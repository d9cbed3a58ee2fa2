#!/usr/bin/env bash
# Every test: Rasa's data validation, the dialogue test stories under `rasa test`, then pytest
# (policy, store on SQLite and PostgreSQL, CLI, actions, NLU data, and the running servers).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
MODEL=$($VENV/bin/python -m orderdesk.nlp.train)
export ORDERDESK_TEST_MODEL="$PWD/$(realpath --relative-to="$PWD" "$MODEL")"
mkdir -p results

echo "== rasa data validate"
$VENV/bin/python -m orderdesk.nlp.validate

echo "== rasa test: dialogue test stories (tests/stories) with --fail-on-prediction-errors"
$VENV/bin/rasa test core --model "$MODEL" --stories tests/stories --fail-on-prediction-errors \
  --out results/stories --no-plot >results/rasa-test.log 2>&1 || {
  tail -n 60 results/rasa-test.log; echo "rasa test: failed stories are in results/stories/failed_test_stories.yml" >&2
  cat results/stories/failed_test_stories.yml 2>/dev/null | head -n 80 >&2; exit 1; }
grep -E "Correct:|Finished evaluating" results/rasa-test.log | tail -n 3 || true

echo "== pytest"
$VENV/bin/python -m pytest -q tests
