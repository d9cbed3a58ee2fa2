# The two commands: `make run` (the bot on SQLite with demo data) and `make test` (every test).
# Each installs what it needs first.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
STAMP := $(VENV)/.installed
SPACY_MODEL := models/spacy_en_orderdesk
export ORDERDESK_DATABASE_URL ?= sqlite:///$(CURDIR)/var/orderdesk.db
# Third-party deprecation notices (TensorFlow, SQLAlchemy's 2.0 notices, ...) and TensorFlow's start-up
# chatter are not for the person running the bot: kept out of every command's output.
export PYTHONWARNINGS ?= ignore::DeprecationWarning,ignore::PendingDeprecationWarning
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
SAY := @printf '\n== %s\n'

.PHONY: install run shell test test-fast test-rasa eval eval-dialogues spacy-model model sweep demo-reset bench cluster-test clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(SAY) "installing the Python packages into $(VENV) (Rasa, TensorFlow, spaCy: about 2-3 minutes the first time)"
	@PY310=$$(scripts/find-python310.sh) || exit 1; \
	if ! [ -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then \
	  echo "creating $(VENV) with $$PY310"; rm -rf $(VENV); "$$PY310" -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --disable-pip-version-check -q -e '.[test]'
	@touch $(STAMP)

spacy-model: $(STAMP)
	$(SAY) "spaCy pipeline $(SPACY_MODEL): built from spacy-lookups-data (a few seconds; kept while up to date)"
	@$(PY) -m orderdesk.nlp.build_spacy $(SPACY_MODEL)

# Trains only when data/, domain.yml, config.yml or the spaCy builder changed (the model is named by their hash),
# and then only the components the change reaches (Rasa's cache in .rasa/cache).
model: spacy-model
	$(SAY) "Rasa model: trained only when its inputs changed (first time about 3 minutes on 2 quiet cores; a wording change in domain.yml about half a minute)"
	@$(PY) -m orderdesk.nlp.train

run: model
	$(SAY) "starting the action server, the Rasa server and the chat page (about 30 s to load the model)"
	@scripts/run.sh

shell: model
	@$(PY) -m orderdesk.cli demo --if-empty
	$(SAY) "starting the action server and a chat in this terminal (about 30 s to load the model; /stop ends it)"
	@scripts/run.sh shell

sweep: $(STAMP)
	$(VENV)/bin/orderdesk sweep

demo-reset: $(STAMP)
	$(VENV)/bin/orderdesk demo --reset

# Every test, the two-replica cluster test included (it needs Redis and nginx: .ci/run installs nginx).
test: model
	scripts/test.sh
	$(SAY) "cluster test: 2 Rasa replicas and 2 action servers behind nginx on PostgreSQL and Redis (about 3-8 minutes)"
	@$(MAKE) --no-print-directory cluster-test

# The unit and store tiers (pytest markers unit, db; see pyproject.toml): no training, no server,
# no Rasa model; under a minute. `make test` runs every tier.
FAST_TESTS := tests/unit tests/policy tests/store tests/cli tests/actions $(wildcard tests/test_*.py)
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "unit or db" $(FAST_TESTS)

eval: model
	$(PY) -m orderdesk.nlp.eval_nlu
	$(PY) tests/dialogues/runner.py --share tests/dialogues/blind

# The conversation figure alone: the share of the blind conversations (tests/dialogues/blind) fully right.
eval-dialogues: model
	$(PY) tests/dialogues/runner.py --share tests/dialogues/blind

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
