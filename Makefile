# optimessay: every task a reader or a developer runs.
#   make serve   set up, build the figures, serve the site on http://127.0.0.1:8000
#   make test    set up, build the site, lint, run every test (Python, browser, JavaScript); every
#                stage runs even when an earlier one fails, then the failed ones are named
#   make test-portable   the numeric tests again as another CPU would run them (what CI adds)
#   make bench   benchmarks (ratios against baselines measured in the same run)
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
NODE_STAMP := node_modules/.installed
EXTRAS := plots,docs,dev
# 4 pytest workers on 2 cores: the browser tests wait on page loads, video playback and animations
# (about half their time), so two more workers fill those waits: 9 min 28 s against about 0.72x that
# work's time at -n 2 measured side by side (HB, issue 15); memory is not the limit (about 1 GB each)
PYTEST_ARGS ?= -n 4
# one intra-op thread per pytest worker: the workers already fill the cores, and torch's OpenMP threads
# on top of them only contend (7% less CPU on three numeric test files side by side, issue 15); the
# figure build draws with one thread too
PYTEST := OMP_NUM_THREADS=1 $(PY) -m pytest
# pip install, without this machine's warnings about its offline wheel folders (pip's status is kept)
pip_install = .venv/bin/pip install --quiet $(1) 2>&1 | { grep -v 'is ignored: it is neither' || true; }; test $${PIPESTATUS[0]} -eq 0
export NO_MKDOCS_2_WARNING := 1
# Python's bytecode goes to .cache/pycache (never beside the sources), and is written there: under
# PYTHONDONTWRITEBYTECODE (these machines' shells set it) the prefix would stay empty while hiding every
# library's own __pycache__, and each process compiled torch, matplotlib and the standard library from
# source (import torch: 4.7 s of CPU, 2.0 s once the prefix is written; collecting the test suite:
# 19.9 s, 7.4 s). An empty value turns that setting off. The bytecode takes ~42 MB.
export PYTHONPYCACHEPREFIX := $(CURDIR)/.cache/pycache
export PYTHONDONTWRITEBYTECODE :=

.PHONY: setup browser figures site serve test test-portable lint pytest jstest bench vectors dist clean

## set-up ---------------------------------------------------------------------------------------
setup: $(VENV_STAMP) $(NODE_STAMP) browser

# torch first (the pinned CPU wheel), then the project and its extras, pinned by requirements.lock
$(VENV_STAMP): pyproject.toml requirements.lock
	python3 -m venv .venv
	$(call pip_install,torch==2.13.0)
	$(call pip_install,-c requirements.lock -e '.[$(EXTRAS)]')
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Debian's Chromium for the browser tests (Playwright cannot download its own browsers here)
browser:
	@bash scripts/ensure_chromium.sh

## the site -------------------------------------------------------------------------------------
figures: $(VENV_STAMP)
	$(PY) scripts/build_figures.py $(FIGURES_ARGS)

site: figures $(NODE_STAMP)
	$(PY) -m mkdocs build --strict

serve: figures $(NODE_STAMP)
	$(PY) -m mkdocs serve --dev-addr 127.0.0.1:8000

# test vectors for the playground's JavaScript update rules, exported from the Python package
vectors: $(VENV_STAMP)
	$(PY) scripts/export_vectors.py

## checks ---------------------------------------------------------------------------------------
# Every stage runs, whatever an earlier one did (a failing pytest must not hide a failing JS test);
# the exit status is non-zero when any failed, and the failed stages are named. The JavaScript tests
# need neither the site nor pytest: they start first and run alongside the other stages (their output
# is held and printed at the end). They mostly wait on the Python references they start, and the site
# build (one process) and pytest (at times: browser waits, its last few tests) leave a core idle.
TEST_STAGES := site lint pytest jstest
test: setup
	@failed=""; \
	jslog=$$(mktemp); \
	$(MAKE) --no-print-directory jstest >"$$jslog" 2>&1 & js=$$!; \
	for stage in site lint pytest; do \
	  echo "=== make $$stage$$([ $$stage = site ] && echo ' (make jstest runs alongside the stages; its output follows them)')"; \
	  $(MAKE) --no-print-directory $$stage || failed="$$failed $$stage"; \
	done; \
	wait $$js || failed="$$failed jstest"; \
	echo "=== make jstest"; cat "$$jslog"; rm -f "$$jslog"; \
	if [ -n "$$failed" ]; then echo "make test: FAILED:$$failed (of: $(TEST_STAGES))" >&2; exit 1; fi; \
	echo "make test: all stages passed ($(TEST_STAGES))"

# Floats are machine-bound (issue 10): MKL's float64 sqrt is not always correctly rounded and differs
# between CPUs, and ATen's kernels depend on the instruction set. The numeric tests (pytest marker
# `numeric`: optimizers, schedulers, sweeps, trajectories, vectors, the playground's JS = Python;
# tests/conftest.py marks every file except the figure/file/plot and other browser tests, so new
# test files are included) run again with ATen's portable kernels (no fused multiply-adds), then the
# cross-machine comparisons (marker `cross_machine`) against a simulated CPU whose sqrt is 1 ulp high
# on 2 % of inputs (--other-cpu-sqrt). Both passes run; the failed ones are named.
# The torch.compile tests are left out of the ATEN_CPU_CAPABILITY=default pass: there inductor's own
# generated C++ fails to build (g++ error in its kernel, torch 2.13); they compare compiled with eager
# on the same machine, which `make test` does.
PORTABLE_SQRT_MARK ?= cross_machine
test-portable: setup site
	@failed=""; \
	echo "=== ATEN_CPU_CAPABILITY=default pytest -m numeric -k 'not compile'"; \
	ATEN_CPU_CAPABILITY=default $(PYTEST) $(PYTEST_ARGS) -m numeric -k "not compile" || failed="$$failed aten-default"; \
	echo "=== pytest -m $(PORTABLE_SQRT_MARK) --other-cpu-sqrt"; \
	$(PYTEST) $(PYTEST_ARGS) -m $(PORTABLE_SQRT_MARK) --other-cpu-sqrt || failed="$$failed other-cpu-sqrt"; \
	if [ -n "$$failed" ]; then echo "make test-portable: FAILED:$$failed" >&2; exit 1; fi; \
	echo "make test-portable: both passes passed"

lint: $(VENV_STAMP)
	$(PY) -m ruff check .

pytest: $(VENV_STAMP)
	$(PYTEST) $(PYTEST_ARGS)

jstest:
	node --test tests/js/

bench: setup site
	$(PY) scripts/bench.py

## the package ----------------------------------------------------------------------------------
# sdist and wheel of the optimessay package into dist/ (PyPA's `build`, with the venv's setuptools:
# no download at build time). `pip install dist/optimessay-*.whl` after `pip install torch==2.13.0`;
# tests/test_dist.py installs the wheel into a fresh venv holding only torch and imports it.
DIST_DIR ?= dist
dist: $(VENV_STAMP)
	rm -rf $(DIST_DIR)
	$(PY) -m build --quiet --no-isolation --sdist --wheel --outdir $(DIST_DIR) .
	@ls -l $(DIST_DIR)

clean:
	rm -rf site docs/figures .figures-cache .cache dist build
