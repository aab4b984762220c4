# GridReach: `make demo` runs the main job, `make test` runs the tests. Both do whatever set-up is missing.
VENV   := .venv
PY     := $(VENV)/bin/python
GR     := $(VENV)/bin/gridreach
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test
export PYTHONDONTWRITEBYTECODE := 1
export TF_CPP_MIN_LOG_LEVEL := 3
export RASA_TELEMETRY_ENABLED := false

.PHONY: setup sysdeps model demo test lint validate nlu-report bench bench-chat bench-voice fuzz serve clean help

help:
	@echo "make demo    screen one sample grid end to end (SQLite, no outside account needed)"
	@echo "make test    run the tests (SQLite, and PostgreSQL at 127.0.0.1:5432 when reachable)"
	@echo "make lint    ruff + mypy"
	@echo "make model   train the Rasa model if training data or config changed"
	@echo "make bench   chat-turn and voice benchmarks, results in bench/results/*.json"
	@echo "make fuzz    fuzz every webhook and Media Streams parser for about 10 minutes"
	@echo "make serve   run the configured channels (docs/OPERATIONS.md, Channels)"

setup: sysdeps
	@scripts/setup.sh

sysdeps:
	@scripts/sysdeps.sh

model: setup
	@$(GR) model

demo: setup model
	$(GR) demo

test: setup model
	@if $(PY) -c "import psycopg2; psycopg2.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		echo "PostgreSQL reachable at $(PG_URL): database tests run on SQLite and PostgreSQL"; \
		GRIDREACH_REQUIRE_PG=1 GRIDREACH_TEST_PG_URL=$(PG_URL) $(PY) -m pytest -q -p no:cacheprovider --durations=25; \
	else echo "note: PostgreSQL at $(PG_URL) is not reachable: database tests run on SQLite only"; \
		$(PY) -m pytest -q -p no:cacheprovider --durations=25; fi

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

validate: setup
	$(VENV)/bin/rasa data validate

nlu-report: setup model
	$(GR) nlu-report

FUZZ_SECONDS ?= 540
FUZZ_ITERATIONS ?= 100000
fuzz: setup
	GRIDREACH_FUZZ_SECONDS=$(FUZZ_SECONDS) GRIDREACH_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) $(PY) -m pytest -q -s -p no:cacheprovider --timeout=0 tests/fuzz

bench: bench-chat bench-voice

bench-chat: setup model
	$(PY) -m bench.chat

bench-voice: setup model
	$(PY) -m bench.voice

serve: setup model
	$(GR) serve

clean:
	rm -rf var models .pytest_cache .mypy_cache .ruff_cache
