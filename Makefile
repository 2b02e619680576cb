# The course's two commands: `make book` and `make test` (see README.md).
# Both create .venv and install everything on first use; later runs reuse it.
SHELL := /bin/bash

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Data root: ../shared/data beside a checkout (CI, offline machines), unless set already.
ifeq ($(origin CNNLIB_DATA), undefined)
  ifneq ($(wildcard ../shared/data/MNIST),)
    export CNNLIB_DATA := $(abspath ../shared/data)
  endif
endif
# Models trained by the chapters (cnnlib.checkpoint) are stored with the build: chapter 8
# reuses chapter 7's LeNet, the tests reuse the book's; a clean build trains them anew.
export CNNLIB_CACHE ?= $(CURDIR)/_build/trained-models
# Quiet the warnings pip prints for this machine's local package mirrors.
PIP := $(BIN)/python -m pip --disable-pip-version-check
NOTEBOOKS := chapters exercises reference
# The browser test drives Debian's Chromium (Playwright's own browser download is not used).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM

.PHONY: help setup book pdf test test-fast lint lab colab serve bench student release chromium axe \
	grade-deps clean

help:
	@echo "make book       build the website into _build/html (executes every notebook)"
	@echo "make pdf        the whole book as one PDF: _build/pdf/book.pdf, also in the site"
	@echo "make test       every test: lint, unit, property, grading, notebooks (nbval)"
	@echo "make test-fast  unit, property and grading tests only (no notebook execution)"
	@echo "make colab      every notebook alone in a venv of Colab's versions (Python 3.13),"
	@echo "                its setup cell installing a wheel of cnnlib and nothing else"
	@echo "make lab        the notebooks in JupyterLab: live widgets, the venv's kernel"
	@echo "make serve      serve _build/html on http://localhost:8000"
	@echo "make bench      benchmarks: cnnlib's convolutions against PyTorch; fit against a plain"
	@echo "                training loop; grading 100 notebooks"
	@echo "make student    regenerate the student exercise notebooks from their sources"
	@echo "make release EX=02   an assignment: student notebook, README, Gradescope zip"
	@echo "make grade-deps install bubblewrap, which the grader's sandboxes use (apt-get)"
	@echo "make set-url URL=https://github.com/<you>/<repo>   point the course at a fork"

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
	$(PIP) install --quiet -r requirements.txt 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	$(PIP) install --quiet --no-deps -e . 2>&1 | grep -v '^WARNING: Location'; test $${PIPESTATUS[0]} -eq 0
	touch $(STAMP)

setup: $(STAMP)

# Style (ruff), and the GitHub Actions workflows checked by actionlint (syntax, expressions,
# action inputs, the shell in run: steps when shellcheck is installed).
WORKFLOWS := $(wildcard .github/workflows/*.yml)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/actionlint $(WORKFLOWS)

# A fork's one edit: its repository URL, written into _config.yml, every notebook's setup cell
# and the README (see reference/instructors.md). Needs only python3.
.PHONY: set-url
set-url:
	@test -n "$(URL)" || { echo "Usage: make set-url URL=https://github.com/<you>/<repo>"; exit 2; }
	$(PYTHON) scripts/set_repository_url.py "$(URL)"

# Warnings (broken references included) are errors; a notebook that raises fails the build.
book: setup
	CNNLIB_STATIC=1 $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Built: $(CURDIR)/_build/html/index.html"

# The whole book as one PDF, printed by Chromium from the single-page build, which renders
# the notebooks from the book's execution cache (no notebook runs again); copied into the
# site as _build/html/book.pdf, which the landing page links. See scripts/book_pdf.py.
pdf: book chromium
	$(BIN)/python scripts/book_pdf.py

chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Chromium for the browser test (apt-get)..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# The browser test's accessibility checker, axe-core, from the npm registry (no Node.js needed;
# the download is checked against the registry's integrity hash). See scripts/fetch_axe.py.
axe: setup
	$(BIN)/python scripts/fetch_axe.py

# The grader isolates each sandbox with bubblewrap (Debian's `bubblewrap`) where it can run;
# util-linux's setpriv lets a root grader start it as `nobody`.
grade-deps:
	@command -v bwrap >/dev/null && command -v setpriv >/dev/null || { \
	  echo "Installing bubblewrap for the grader's sandboxes (apt-get)..."; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap util-linux >/dev/null; }

# Everything: style, the site and its PDF built and checked, every notebook as a fresh Colab
# runtime runs it (make colab), unit/property/grading/browser tests, and every notebook
# executed by nbval.
test: setup lint book chromium axe grade-deps pdf colab
	HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax \
		tests $(NOTEBOOKS)

test-fast: setup lint grade-deps
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not site and not lab" tests

# The course in JupyterLab, from the venv: its kernel (cnnlib installed, $$CNNLIB_DATA set as
# above) and its widget manager (jupyterlab_widgets), so explorers are live; it opens chapter 0.
# LAB_ARGS adds options, e.g. `make lab LAB_ARGS="--no-browser --port 8890"` on a remote
# machine; LAB_DIR serves another folder (the browser test serves copies of notebooks).
LAB_ARGS ?=
LAB_DIR ?= $(CURDIR)
lab: setup
	$(BIN)/jupyter lab --ServerApp.root_dir="$(LAB_DIR)" \
		--LabApp.default_url=/lab/tree/chapters/00_getting_started.ipynb \
		$(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

# Colab's runtime rebuilt here: a venv of colab/constraints.txt's versions (Python 3.13),
# built once in _build/colab; every notebook copied alone into an empty folder and executed
# there, its setup cell installing a wheel of the repository (and nothing else); then pytest
# against that wheel. See scripts/colab_check.py.
colab: setup
	$(BIN)/python scripts/colab_check.py

serve:
	@test -f _build/html/index.html || { echo "No site yet: run 'make book' first."; exit 1; }
	$(BIN)/python -m http.server --directory _build/html 8000

bench: setup grade-deps
	$(BIN)/python benchmarks/conv.py
	$(BIN)/python benchmarks/training.py
	$(BIN)/python benchmarks/grading.py

student: setup
	$(BIN)/cnnlib-grade student

# One exercise as an assignment folder (default _build/release/EX): the student notebook, a
# README for students and a Gradescope autograder zip (see reference/instructors.md).
release: setup
	@test -n "$(EX)" || { echo "Usage: make release EX=02 (or EX=02_conv1d) [OUT=folder]"; exit 2; }
	$(BIN)/cnnlib-grade release $(EX) --out $(or $(OUT),_build/release/$(EX))

clean:
	rm -rf _build .pytest_cache .hypothesis bench-results
