# Python Memory course: `make lab` opens the course, `make test` runs every test.
# Both start with `make setup`, so on a fresh clone each is one command that does all set-up.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888
LAB_ARGS ?=
# JupyterLab refuses to run as root unless told; containers and CI often are root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
PYTEST_ARGS ?= -n 2

.PHONY: setup browser lab workspace grade test release crossversion benchmarks clean

setup: $(STAMP)

# Re-installs only when the dependency list changes; otherwise a no-op.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

# Copies the release notebooks into workspace/ without ever overwriting a learner's notebook.
workspace: setup
	$(BIN)/python tools/course.py workspace

lab: workspace
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.root_dir=$(CURDIR) $(ROOT_ARGS) $(LAB_ARGS) course/start.ipynb

# Self-study: grade workspace/ with the hidden tests; feedback pages go to workspace/feedback/.
grade: setup
	$(BIN)/python tools/course.py selfgrade

# Debian's Chromium for tests/test_browser.py (Playwright drives it; never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    || echo "Could not install chromium, so the browser test will be skipped"; \
	  else echo "Chromium is missing, so the browser test will be skipped: sudo apt-get install chromium"; fi; }

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every memory target's reference and naive figures on CPython 3.10-3.13; fails on thin margins.
crossversion: setup
	$(BIN)/python tools/crossversion.py --write course/cross-version.md

# Regenerates release/ from source/ with nbgrader (instructors, after editing source/).
release: setup
	$(BIN)/python tools/course.py generate

# Times and checks the measuring engine (overhead, determinism, pytest-memray, tracemalloc slowdown);
# writes benchmarks/results-latest.json. Installs the bench extra (pytest-memray) on first use.
benchmarks: setup
	@$(BIN)/python -c 'import pytest_memray' 2>/dev/null || $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .venv-cv workspace build
