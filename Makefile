# errseq-explorer: every target sets up what it needs and no more (a .venv from PyPI,
# Debian packages).  The main job needs the default install and graphviz; conform needs
# qemu, gcc & co (explorer/conform/setup-host.sh); --ray needs the ray extra; `make
# test` needs all of them, because CI runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# One stamp per part of the venv: a target installs only the parts it names, and an
# edit of pyproject.toml installs each part present again.  (Not bin/explore: each
# extra's install writes it again, which would make the other extras look stale.)
MAIN := $(VENV)/.main
DEV := $(VENV)/.extra-dev
RAY := $(VENV)/.extra-ray
# make test-fast: every test that boots no kernel, starts no Ray runtime or browser
# and is no long run, on every core (pytest-xdist): on a machine shared with other jobs
# one core alone is too slow.  A test file stays on one worker, so its module fixtures run once, as
# they do in `make test`.
FAST := -m 'not vm and not ray and not browser and not slow' -n logical --dist loadfile

# pip must not run twice at once in one venv
.NOTPARALLEL:

.PHONY: setup system conform-host browser-host explore ray test test-fast lint bench conform clean

$(MAIN): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	# Bytecode for our own modules now (pip compiles only what it copies): where
	# PYTHONDONTWRITEBYTECODE is set, every run would otherwise compile them again.
	$(BIN)/python -m compileall -q explorer specs
	touch $@

$(VENV)/.extra-%: $(MAIN)
	$(BIN)/pip install -q -e '.[$*]'
	touch $@

# Debian's graphviz (the main job's SVG pictures)
system:
	bash scripts/setup-system.sh

# Debian's qemu, gcc, static libc, e2fsprogs, busybox: what booting a kernel needs
conform-host:
	bash explorer/conform/setup-host.sh

# Debian's chromium-headless-shell: the report's browser tests
browser-host:
	bash scripts/setup-browser.sh

# Everything: what `make test` (and so CI) needs
setup: system conform-host browser-host $(DEV) $(RAY)

# The main job.  Exit code 1 means "a property is violated", which is an answer, not a failure.
explore: system $(MAIN)
	$(BIN)/explore --mounts 2 --depth 8 || [ $$? -eq 1 ]

# The main job on a local Ray runtime: the same answers (docs/scale-out.md)
ray: system $(RAY)
	$(BIN)/explore --mounts 2 --depth 8 --ray || [ $$? -eq 1 ]

# Every test: those that boot no kernel on every core (a file per worker, as in
# test-fast), then the VM tests alone, whose guests want the cores to themselves.
test: setup
	$(BIN)/python -m pytest -m 'not vm' -n logical --dist loadfile
	$(BIN)/python -m pytest -m vm

test-fast: system $(DEV)
	$(BIN)/python -m pytest $(FAST)

lint: $(DEV)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .
	$(BIN)/mypy explorer specs

bench: system $(MAIN)
	$(BIN)/python bench/bench_scale.py
	$(BIN)/python bench/bench_search.py

conform: conform-host $(MAIN)
	$(BIN)/explore conform --kernel all

clean:
	rm -rf $(VENV) out/*/ out/report.json out/timings.json out/.explore-manifest.json
