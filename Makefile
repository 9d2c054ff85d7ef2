# optimessay: every task a reader or a developer runs.
#   make serve   set up, build the figures, serve the site on http://127.0.0.1:8000
#   make test    set up, build the site, lint, run every test (Python, browser, JavaScript)
#   make bench   benchmarks (ratios against baselines measured in the same run)
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
NODE_STAMP := node_modules/.installed
EXTRAS := plots,docs,dev
PYTEST_ARGS ?= -n 2
# pip install, without this machine's warnings about its offline wheel folders (pip's status is kept)
pip_install = .venv/bin/pip install --quiet $(1) 2>&1 | { grep -v 'is ignored: it is neither' || true; }; test $${PIPESTATUS[0]} -eq 0
export NO_MKDOCS_2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup browser figures site serve test lint pytest jstest bench vectors clean

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
test: setup site lint pytest jstest

lint: $(VENV_STAMP)
	$(PY) -m ruff check .

pytest: $(VENV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

jstest:
	node --test tests/js/

bench: setup site
	$(PY) scripts/bench.py

clean:
	rm -rf site docs/figures .figures-cache .cache
