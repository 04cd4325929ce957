# Python Memory course: `make lab` opens the course, `make test` runs every test.
# Both start with `make setup`, so on a fresh clone each is one command that does all set-up.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 8888
PYTEST_ARGS ?=

.PHONY: setup lab workspace test release benchmarks clean

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
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.root_dir=$(CURDIR) course/start.ipynb

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerates release/ from source/ with nbgrader (instructors, after editing source/).
release: setup
	$(BIN)/python tools/course.py generate

clean:
	rm -rf $(VENV) workspace build
