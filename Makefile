# Entry points: `make serve` (install and start on the embedded default), `make test`, and
# `make bench` (the province-scale benchmark; BENCHMARKS.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8000
export SURVEY_DATA_DIR ?= data

.PHONY: serve test bench install install-dev browser clean

$(VENV)/.runtime: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

serve: install
	$(VENV)/bin/flask --app wsgi demo --if-empty
	SURVEY_BIND=0.0.0.0:$(PORT) exec $(VENV)/bin/gunicorn -c gunicorn.conf.py wsgi:app

# Browser tests drive Debian's chromium; install it when missing (root: directly, else sudo).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# axe-core for the accessibility tests, pinned in tests/browser/axe/package-lock.json (npm from Debian).
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package-lock.json
	@command -v npm >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q npm; }
	npm ci --prefix tests/browser/axe --no-audit --no-fund
	touch $@

test: install-dev browser $(AXE)
	$(PY) -m pytest $(PYTEST_ARGS)

# Sizes and load: BENCH_ARGS="--sizes 230000" for the province alone; see `$(PY) -m bench --help`.
bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
