# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Local development conveniences with DEBUG off, so the demo shows the service's own error pages.
DEV_ENV := LOCAL_DEVELOPMENT=1

.PHONY: install install-app install-loadtest lock lock-check assets demo test quick lint bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every Python package comes from the lock (requirements/*.txt, exported from uv.lock): pinned, with hashes.
PIP_INSTALL := $(BIN)/pip install --quiet --require-hashes --no-deps

# The app, the tests, the linter and the lock tool.
install: $(BIN)/python
	$(PIP_INSTALL) -r requirements/test.txt

install-app: $(BIN)/python
	$(PIP_INSTALL) -r requirements/app.txt

install-loadtest: $(BIN)/python
	$(PIP_INSTALL) -r requirements/loadtest.txt

## After changing dependencies in pyproject.toml: re-resolve uv.lock (keeping every pin it can) and the requirement files
lock: install
	scripts/lock.sh

## Fail if the lock is out of step with pyproject.toml (CI runs this)
lock-check: install
	scripts/lock.sh --check

static/vendor/govuk-frontend.min.css: package.json package-lock.json frontend/build.mjs
	npm ci --no-audit --no-fund --silent
	npm run --silent build

assets: static/vendor/govuk-frontend.min.css

## Install, create a local SQLite database with an invented partnership, and serve it on http://127.0.0.1:8000
demo: install-app assets
	$(DEV_ENV) $(BIN)/python manage.py migrate --verbosity 0
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

## Install, make sure PostgreSQL, Redis and Chromium are there, and run every test
test: install assets
	scripts/services.sh
	scripts/chromium.sh
	$(BIN)/ruff check .
	$(BIN)/pytest

## The inner loop while developing: everything but the browser and fault tests (a few minutes)
quick: install assets
	scripts/services.sh
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not browser and not faults"

BENCH_DB ?= postgres://postgres@127.0.0.1:5432/reo_bench
BENCH_ENV := DATABASE_URL=$(BENCH_DB) DJANGO_SETTINGS_MODULE=bench_settings PYTHONPATH=scripts

## Generate a 100,000-person partnership into reo_bench (once, a few minutes) and report server times
bench: install
	scripts/services.sh
	$(BENCH_ENV) $(BIN)/python scripts/bench.py

## 50 signed-in users for 60 s against gunicorn on the same data: errors, p95 and throughput
loadtest: install install-loadtest
	scripts/services.sh
	$(BENCH_ENV) $(BIN)/python scripts/bench.py sessions 50 --out test-artifacts/sessions.json
	BIN=$(BIN) scripts/loadtest.sh

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles db.sqlite3 test-artifacts
