# optimessay: every task a reader or a developer runs.
#   make serve   set up, build the figures, serve the site on http://127.0.0.1:8000
#   make test    set up, build the site, lint, run every test (Python, browser, JavaScript)
#   make bench   benchmarks (ratios against baselines measured in the same run)
SHELL := /bin/bash
PY := .venv/bin/python
VENV_STAMP := .venv/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?= -n 2
export NO_MKDOCS_2_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup browser figures site serve test lint pytest jstest bench vectors clean

## set-up ---------------------------------------------------------------------------------------
setup: $(VENV_STAMP) $(NODE_STAMP) browser

# torch first (the pinned CPU wheel), then the project and its extras, pinned by requirements.lock
$(VENV_STAMP): pyproject.toml requirements.lock
	python3 -m venv .venv
	.venv/bin/pip install --quiet torch==2.13.0
	.venv/bin/pip install --quiet -c requirements.lock -e '.[plots,docs,dev]'
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
