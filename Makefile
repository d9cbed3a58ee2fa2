# The two commands: `make run` (the bot on SQLite with demo data) and `make test` (every test).
# Each installs what it needs first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
SPACY_MODEL := models/spacy_en_orderdesk
export ORDERDESK_DATABASE_URL ?= sqlite:///$(CURDIR)/var/orderdesk.db

.PHONY: install run shell test test-fast test-rasa eval eval-dialogues spacy-model model sweep demo-reset bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@PY310=$$(scripts/find-python310.sh) || exit 1; \
	if ! [ -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then \
	  echo "creating $(VENV) with $$PY310"; rm -rf $(VENV); "$$PY310" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $(STAMP)

spacy-model: $(STAMP)
	$(PY) -m orderdesk.nlp.build_spacy $(SPACY_MODEL)

# Trains only when data/, domain.yml, config.yml or the spaCy builder changed (the model is named by their hash).
model: spacy-model
	$(PY) -m orderdesk.nlp.train

run: model
	scripts/run.sh

shell: model
	$(PY) -m orderdesk.cli demo --if-empty
	scripts/run.sh shell

sweep: $(STAMP)
	$(VENV)/bin/orderdesk sweep

demo-reset: $(STAMP)
	$(VENV)/bin/orderdesk demo --reset

test: model
	scripts/test.sh

# Python tests only (no Rasa training or rasa test).
test-fast: $(STAMP)
	$(PY) -m pytest -q tests

eval: model
	$(PY) -m orderdesk.nlp.eval_nlu
	$(PY) tests/dialogues/runner.py --share tests/dialogues/blind

# The conversation figure alone: the share of the blind conversations (tests/dialogues/blind) fully right.
eval-dialogues: model
	$(PY) tests/dialogues/runner.py --share tests/dialogues/blind

bench: model
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_nlu.py

clean:
	rm -rf results .rasa var
