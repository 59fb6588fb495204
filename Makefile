# Entry points: `make serve` (install and start on the embedded default), `make test`, and
# `make bench` (the province-scale benchmark; BENCHMARKS.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8000
export SURVEY_DATA_DIR ?= data
# Where `make serve` listens. Loopback unless told otherwise: the demo accounts' passwords are
# printed. SURVEY_BIND=0.0.0.0:8000 (or PORT=8080) from the environment is honoured.
export SURVEY_BIND ?= 127.0.0.1:$(PORT)

.PHONY: serve test test-fast lint bench install install-dev browser nginx postgres webforms requirements clean translations

$(VENV)/.runtime: requirements.txt
	@echo "Installing the pinned Python packages into $(VENV) (first run only; a minute or two)..."
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

# nginx (buffering, timeouts) in front of gunicorn on a private socket: deploy/serve.
serve: install nginx
	$(VENV)/bin/flask --app wsgi demo --if-empty
	exec deploy/serve

# The message catalogues: the compiled .mo files are committed; after editing a .po, run this.
translations: install
	for po in survey/translations/*/LC_MESSAGES/messages.po; do \
	  $(VENV)/bin/pybabel -q compile -i $$po -o $${po%.po}.mo; done

# Browser tests drive Debian's chromium; install it when missing (root: directly, else sudo).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

# The production start puts Debian's nginx in front of gunicorn; install it when missing.
nginx:
	@command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing nginx from Debian (the buffering proxy in front of gunicorn)..."; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q nginx; }

# The tests start a throwaway PostgreSQL cluster (tests/postgres.py) from Debian's binaries;
# install them when missing, unless SURVEY_TEST_DATABASE_URL names a server to use instead.
postgres:
	@[ -n "$$SURVEY_TEST_DATABASE_URL" ] || command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "Installing PostgreSQL from Debian (the tests run each backend against a throwaway cluster)..."; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q postgresql; }

# ODK Web Forms (the XForm engine the OpenRosa tests fill the served form with), from the lockfile.
WEBFORMS := tests/browser/webforms
$(WEBFORMS)/node_modules/.package-lock.json: $(WEBFORMS)/package-lock.json
	npm ci --prefix $(WEBFORMS) --no-audit --no-fund --loglevel=error
webforms: $(WEBFORMS)/node_modules/.package-lock.json

# axe-core for the accessibility tests, pinned in tests/browser/axe/package-lock.json (npm from Debian).
AXE := tests/browser/axe/node_modules/axe-core/axe.min.js
$(AXE): tests/browser/axe/package-lock.json
	@command -v npm >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q npm; }
	npm ci --prefix tests/browser/axe --no-audit --no-fund
	touch $@

test: install-dev browser nginx postgres webforms $(AXE) lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop while coding: no browser, no real gunicorn (a minute or two on 2 cores).
test-fast: install-dev postgres lint
	$(PY) -m pytest -m "not browser and not server" $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check survey exports bench tests wsgi.py

# Both backends side by side in one table: TinyDB at 10,000, 230,000 and 1,000,000 households,
# PostgreSQL at those and 5,000,000. BENCH_ARGS="--sizes 230000" for the province alone,
# BENCH_ARGS="--backend tinydb" for one backend; see `$(PY) -m bench --help`.
bench: install-dev postgres
	$(PY) -m bench --backend both $(BENCH_ARGS)

# Pins with hashes, compiled by pip-tools from requirements.in / requirements-dev.in.
PIP_COMPILE := $(VENV)/bin/pip-compile -q --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
requirements: install-dev
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) .pytest_cache $(WEBFORMS)/node_modules
