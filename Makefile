# Entry points: `make serve` (install and start on the embedded default), `make test`, and
# `make bench` (the province-scale benchmark; BENCHMARKS.md).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PORT ?= 8000
export SURVEY_DATA_DIR ?= data

.PHONY: serve test bench install install-dev browser clean translations

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

# The message catalogues: the compiled .mo files are committed; after editing a .po, run this.
translations: install
	for po in survey/translations/*/LC_MESSAGES/messages.po; do \
	  $(VENV)/bin/pybabel -q compile -i $$po -o $${po%.po}.mo; done

# Browser tests drive Debian's chromium; install it when missing (root: directly, else sudo).
browser:
	@command -v chromium >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q chromium; }

test: install-dev browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Sizes and load: BENCH_ARGS="--sizes 230000" for the province alone; see `$(PY) -m bench --help`.
bench: install
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
