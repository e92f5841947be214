# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEV_ENV := DEBUG=1

.PHONY: install assets demo test lint bench loadtest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'

static/vendor/govuk-frontend.min.css: package.json package-lock.json frontend/build.mjs
	npm ci --no-audit --no-fund --silent
	npm run --silent build

assets: static/vendor/govuk-frontend.min.css

## Install, create a local SQLite database with an invented partnership, and serve it on http://127.0.0.1:8000
demo: install assets
	$(DEV_ENV) $(BIN)/python manage.py migrate --verbosity 0
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

## Install, make sure PostgreSQL, Redis and Chromium are there, and run every test
test: install assets
	scripts/services.sh
	scripts/chromium.sh
	$(BIN)/ruff check .
	$(BIN)/pytest

BENCH_DB ?= postgres://postgres@127.0.0.1:5432/reo_bench
BENCH_ENV := DATABASE_URL=$(BENCH_DB) DJANGO_SETTINGS_MODULE=bench_settings PYTHONPATH=scripts

## Generate a 100,000-person partnership into reo_bench (once, a few minutes) and report server times
bench: install
	scripts/services.sh
	$(BENCH_ENV) $(BIN)/python scripts/bench.py

## 50 signed-in users for 60 s against gunicorn on the same data: errors, p95 and throughput
loadtest: install
	scripts/services.sh
	$(BENCH_ENV) $(BIN)/python scripts/bench.py sessions 50 --out test-artifacts/sessions.json
	BIN=$(BIN) scripts/loadtest.sh

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles db.sqlite3 test-artifacts
