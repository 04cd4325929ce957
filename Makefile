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

.PHONY: setup browser graphviz sandbox postgres hub lab workspace update progress grade test release gradebook student-package grade-class crossversion benchmarks bench-grading bench-class clean

setup: $(STAMP)

# Re-installs only when the dependency list changes; otherwise a no-op.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python >= 3.10 is needed, found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,class]'
	@touch $(STAMP)

# Brings the release notebooks into workspace/: a notebook the learner changed is never replaced; a newer release
# of it goes beside it under a dated name (tools/updates.py). `make update` does only this; `make lab` does it first.
workspace update: setup
	$(BIN)/python tools/course.py update

# The course's JupyterLab defaults (no news prompt, no update check) come from course/jupyter-config/labconfig;
# JUPYTER_CONFIG_PATH puts them before every other config dir, and the learner's own settings still win over them.
lab: workspace graphviz
	JUPYTER_CONFIG_PATH="$(CURDIR)/course/jupyter-config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.port=$(PORT) --ServerApp.root_dir=$(CURDIR) $(ROOT_ARGS) $(LAB_ARGS) course/start.ipynb

# Self-study: every chapter's exercises and questions passed / failed / not tried, and memory figures against their
# targets, graded from a copy of workspace/ (autograder/progress.py); the chart goes to build/progress.png.
progress: setup sandbox
	$(BIN)/python -m autograder.progress --chart build/progress.png

# Self-study: grade workspace/ with the hidden tests; feedback pages go to workspace/feedback/.
grade: setup sandbox
	$(BIN)/python tools/course.py selfgrade

# Debian's Chromium for tests/test_browser.py (Playwright drives it; never `playwright install`).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
	    || echo "Could not install chromium, so the browser test will be skipped"; \
	  else echo "Chromium is missing, so the browser test will be skipped: sudo apt-get install chromium"; fi; }

# Debian's Graphviz: its `dot` draws objgraph's reference graphs inline (chapters 3 and 8); without it they print as chains.
graphviz:
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz \
	    || echo "Could not install graphviz, so reference graphs print as chains: sudo apt-get install graphviz"; \
	  else echo "Graphviz is missing, so reference graphs print as chains: sudo apt-get install graphviz (or brew/conda install graphviz)"; fi; }

# Debian's bubblewrap: autograding runs each submission's code in its own sandbox (autograder/sandbox.py).
sandbox:
	@command -v bwrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap \
	    || echo "Could not install bubblewrap: autograding will refuse to run unless AUTOGRADER_SANDBOX=off"; \
	  else echo "bubblewrap is missing, so autograding refuses to run unsandboxed: sudo apt-get install bubblewrap (or AUTOGRADER_SANDBOX=off)"; fi; }

# configurable-http-proxy from npm into .hub/, for JupyterHub (deploy/jupyterhub_config.py finds it there;
# tests/test_hub.py starts a hub with it). As root, installs Debian's npm when missing.
HUB_PROXY := .hub/node_modules/.bin/configurable-http-proxy
hub:
	@test -x $(HUB_PROXY) || { \
	  command -v npm >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null \
	    && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }; \
	  if command -v npm >/dev/null; then npm install --silent --no-audit --no-fund --prefix .hub configurable-http-proxy@5 \
	    || echo "Could not install configurable-http-proxy, so the JupyterHub test will be skipped"; \
	  else echo "npm is missing, so the JupyterHub test will be skipped: sudo apt-get install npm"; fi; }

# Debian's PostgreSQL server binaries: tests/test_class_grading.py starts a throwaway server for a gradebook.
postgres:
	@ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql \
	    || echo "Could not install postgresql, so the PostgreSQL gradebook test will be skipped"; \
	  else echo "PostgreSQL is missing, so its gradebook test will be skipped: sudo apt-get install postgresql"; fi; }

test: setup browser graphviz sandbox hub postgres
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A whole class: collect, grade every submission in parallel on Dask, feedback, grades.csv, class report
# (python-memory grade-class --help). GRADE_ARGS="--workers 4 --release-feedback" or "--scheduler tcp://HOST:8786".
ASSIGNMENT ?=
GRADE_ARGS ?=
grade-class: setup sandbox
	@test -n "$(ASSIGNMENT)" || { echo "usage: make grade-class ASSIGNMENT=<id> [GRADE_ARGS=...]"; exit 2; }
	$(BIN)/python -m classroom.cli grade-class $(ASSIGNMENT) --course $(CURDIR) $(GRADE_ARGS)

# Every memory target's reference and naive figures on CPython 3.10-3.13; fails on thin margins.
crossversion: setup
	$(BIN)/python tools/crossversion.py --write course/cross-version.md

# Regenerates release/ from source/ with nbgrader (instructors, after editing source/).
release: setup
	$(BIN)/python tools/course.py generate

# A class's gradebook: `nbgrader generate_assignment ID --force` here for every assignment (or ASSIGNMENTS="id ...").
# --force because release/ is committed: without it nbgrader skips the assignment and leaves the gradebook empty.
ASSIGNMENTS ?=
gradebook: setup
	$(BIN)/python tools/course.py gradebook $(ASSIGNMENTS)

# What students get, without source/: in $(DIST)/, a wheel (autograder + `python-memory student-setup`) and
# the release notebooks as python-memory-notebooks/ and a .zip, for students without an nbgrader exchange.
DIST ?= dist
student-package: setup
	$(BIN)/python tools/student_package.py --out $(DIST)

# Times and checks the measuring engine (overhead, determinism, pytest-memray, tracemalloc slowdown);
# writes benchmarks/results-latest.json. Installs the bench extra (pytest-memray) on first use.
benchmarks: setup
	@$(BIN)/python -c 'import pytest_memray' 2>/dev/null || $(BIN)/python -m pip install -q --disable-pip-version-check -e '.[bench]'
	$(BIN)/python benchmarks/run.py

# Autograde time per submission: the kernel path before the trusted grader vs the sandboxed grader, side by side.
bench-grading: setup sandbox
	$(BIN)/python benchmarks/grading.py

# Class grading throughput: plain nbgrader against the class command at 1 and 2 workers and on an external
# Dask cluster, side by side (about 40 minutes; BENCH_ARGS="--students 6 --course-students 1" for a quick look).
BENCH_ARGS ?=
bench-class: setup sandbox
	$(BIN)/python benchmarks/class_grading.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-cv .hub workspace build dist
