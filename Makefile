# Everything runs from the project's own virtualenv in .venv/, built from the pinned requirements.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test check install install-test install-browser migrate demo screenshots clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test-installed: requirements.txt requirements-test.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.runtime-installed
install-test: $(VENV)/.test-installed

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo --url-base http://$(HOST):$(PORT)

## make run: set up, load the demo workspace on SQLite, serve on http://127.0.0.1:8000/admin/ with a
## worker and beat beside it (Procfile.dev, embedded broker: no server to install); Ctrl-C stops all three
run: demo
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho -f Procfile.dev start

## make install-browser: Debian's Chromium for the browser tests (tests/e2e; as root). Without it they skip.
install-browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

## make check: static checks: the import contracts (docs/architecture.md) and mypy over crm, contacts, leads, demo
check: install-test
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m mypy

## make test: the static checks, then the whole suite (SQLite unless DATABASE_URL says otherwise)
test: check
	$(PY) -m pytest $(PYTEST_ARGS)

## make screenshots: run the browser tests and refresh the screenshots in docs/img/ from them
screenshots: install-test
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .mypy_cache
