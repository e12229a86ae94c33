# errseq-explorer: every target sets up what it needs (a .venv from PyPI, Debian packages).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup system explore test lint bench conform clean

$(BIN)/explore: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ray]'
	# Bytecode for our own modules now (pip compiles only what it copies): where
	# PYTHONDONTWRITEBYTECODE is set, every run would otherwise compile them again.
	$(BIN)/python -m compileall -q explorer specs
	touch $@

system:
	bash scripts/setup-system.sh

setup: system $(BIN)/explore

# The main job.  Exit code 1 means "a property is violated", which is an answer, not a failure.
explore: setup
	$(BIN)/explore --mounts 2 --depth 8 || [ $$? -eq 1 ]

test: setup
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy explorer specs

bench: setup
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_search.py

conform: setup
	$(BIN)/explore conform --kernel all

clean:
	rm -rf $(VENV) out/*/ out/report.json out/timings.json out/.explore-manifest.json
