# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test test-fast chaos lint bench bench-big clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m crmsync.cli.demo

# Python keeps its bytecode while the tests run, even where the environment says not to
# (PYTHONDONTWRITEBYTECODE=1): else every run, and every CLI the end-to-end tests start,
# compiles every module again (collecting the inner loop: 7 s instead of 4).
KEEP_BYTECODE := PYTHONDONTWRITEBYTECODE=

test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(KEEP_BYTECODE) $(BIN)/pytest

# The inner loop: unit and contract tests, no end-to-end runs of the CLI (under a minute).
test-fast: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(KEEP_BYTECODE) $(BIN)/pytest -m "not slow"

# The chaos suite at length: 20 seeds of faults and kill -9 per shipped pipeline (make test
# runs 3), the hostile server and the hostile files.
chaos: $(STAMP)
	CHAOS_SEEDS=20 $(KEEP_BYTECODE) $(BIN)/pytest tests/chaos

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

bench: $(STAMP)
	$(BIN)/python bench/sandbox.py
	$(BIN)/python bench/load.py
	$(BIN)/python bench/load.py --latency-ms 250
	$(BIN)/python bench/transform.py
	$(BIN)/python bench/transform.py --unicode-share 0.25
	$(BIN)/python bench/companies.py
	$(BIN)/python bench/state.py
	$(BIN)/python bench/sync.py
	$(BIN)/python bench/cli.py
	$(BIN)/python bench/cli.py --only-dry-run --unicode-share 0.25
	$(BIN)/python bench/cli.py --rows 20000 --latency-ms 250 --rate-limit 20 --fail-rate 0.1 --commit-then-fail-rate 0.05
	$(BIN)/python bench/safe_sync.py

bench-big: $(STAMP)  # 10,000,000 rows: some 4 minutes with the file made, 1.5 GB
	$(BIN)/python bench/cli.py --rows 10000000 --only-dry-run --unicode-share 0.25

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
