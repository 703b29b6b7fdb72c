# The two commands in the README: `make demo` and `make test`. Everything else supports them.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit system-deps bench bench-foundation bench-near-dup clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian tools some features use: exiftool (metadata), chromium (web capture, browser tests).
system-deps:
	@bash scripts/system-deps.sh

demo: $(STAMP) system-deps
	$(BIN)/hujjat demo demo-archive --serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) system-deps lint
	$(BIN)/pytest -n 2 -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

# Benchmarks (never part of `make test`); each prints its figures with a same-run baseline.
bench: bench-foundation bench-near-dup

bench-foundation: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/ingest_rss.py
	$(BIN)/python bench/verify_quick.py

bench-near-dup: $(STAMP)
	$(BIN)/python bench/near_dup_accuracy.py
	$(BIN)/python bench/near_dup_speed.py

clean:
	rm -rf $(VENV) demo-archive .pytest_cache .mypy_cache .ruff_cache
