# Two commands get you going: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test test-fast lint format migrate kafka bench backtest demo clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

kafka: $(STAMP) ## Resolve the Kafka broker jars from Maven Central (cached in .cache/)
	@$(BIN)/python -m deploy.kafka.broker fetch >/dev/null

run: $(STAMP) kafka ## Start Kafka, migrate, run ingest (127.0.0.1:8000) and analyzer (127.0.0.1:8001); Ctrl-C stops all
	@$(BIN)/python -m deploy.local.run

test: $(STAMP) kafka ## Set up and run the whole test suite (real Kafka, SQLite and PostgreSQL)
	@bash deploy/local/ensure-postgres.sh
	@bash deploy/local/ensure-chromium.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## Only the tests that need neither Kafka nor PostgreSQL processes of their own
	$(BIN)/python -m pytest tests/shared tests/analyzer/model tests/ingest/vendors tests/analyzer/webhooks tests/deploy $(PYTEST_ARGS)

lint: $(STAMP) ## ruff (lint + format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy services shared deploy migrations tests bench

format: $(STAMP) ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH ?= ingest analyzer rebuild
bench: $(STAMP) kafka ## Benchmarks on real Kafka, SQLite, PostgreSQL; BENCH=ingest|analyzer|rebuild for one, BENCH_ARGS=... for its options
	@bash deploy/local/ensure-postgres.sh
	@bash deploy/local/ensure-wrk.sh
	@for b in $(BENCH); do echo "== bench.$$b"; $(BIN)/python -m bench.$$b $(BENCH_ARGS) || exit 1; done

migrate: $(STAMP) ## Apply database migrations to DATABASE_URL (default: SQLite in ./var)
	$(BIN)/python -m services.analyzer migrate

clean: ## Remove the virtualenv, caches and local data (keeps the Kafka jar cache)
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache

backtest: $(STAMP) ## Score every rule over held-out simulated portfolios (offline, ~1 min): mean and spread
	$(BIN)/python -m bench.backtest $(BACKTEST_ARGS)

demo: $(STAMP) ## With `make run` up: replay a seeded year of 50 accounts, print their alerts and the backtest (DEMO_ARGS=...)
	@$(BIN)/python -m bench.demo $(DEMO_ARGS)
