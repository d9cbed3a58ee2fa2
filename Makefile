# The two commands: `make run` (the bot on SQLite with demo data) and `make test` (every test).
# Each installs what it needs first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
SPACY_MODEL := models/spacy_en_orderdesk
export ORDERDESK_DATABASE_URL ?= sqlite:///$(CURDIR)/var/orderdesk.db

.PHONY: install run shell test test-fast test-rasa eval spacy-model model sweep demo-reset bench cluster-test clean

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

# The unit and store tiers (pytest markers unit, db; see pyproject.toml): no training, no server,
# no Rasa model; under a minute. `make test` runs every tier.
FAST_TESTS := tests/unit tests/policy tests/store tests/cli tests/actions $(wildcard tests/test_*.py)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "unit or db" $(FAST_TESTS)

eval: spacy-model
	$(PY) -m orderdesk.nlp.eval_nlu

bench: model
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_nlu.py
	PYTHONPATH=$(CURDIR) $(PY) benchmarks/bench_servers.py

# Several replicas on this machine: 2 Rasa servers and 2 action servers behind nginx, on PostgreSQL and Redis;
# 500 senders' bursts, the sweep on every replica, a replica killed mid-burst (ports 20000-20099; minutes).
cluster-test: model
	PYTHONPATH=$(CURDIR) ORDERDESK_CLUSTER_TEST=1 $(PY) -m pytest -q -s -p no:cacheprovider tests/cluster

clean:
	rm -rf results .rasa var
