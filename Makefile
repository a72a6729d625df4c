# Two commands for a fresh Debian/Ubuntu machine with Python 3.11+:
#   make run    set up, migrate, deploy bpmn/, load demo data, serve http://127.0.0.1:8000 with the
#               background worker beside it (Procfile; Ctrl-C stops both), which runs the
#               schedules: timers every minute, win-back targets daily, reviews monthly, ...
#   make test   set up and run the whole test suite (SQLite; DATABASE_URL=postgres://... for PostgreSQL)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint format bench assets system-packages clean

# A laptop runs in DEBUG unless told otherwise: without it the development SECRET_KEY is refused.
run: export DEBUG ?= true
run: $(INSTALLED)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py deploy_bpmn bpmn/*.bpmn
	$(BIN)/python manage.py seed_demo
	DEBUG=$${DEBUG:-true} $(BIN)/honcho start -f Procfile

test: $(INSTALLED)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(INSTALLED)
	$(BIN)/python -m benchmarks.engine
	$(BIN)/python -m benchmarks.domain
	$(BIN)/python -m benchmarks.funnel
	$(BIN)/python -m benchmarks.pages
	$(BIN)/python -m benchmarks.jobs
	$(BIN)/python -m benchmarks.migration
	$(BIN)/python -m benchmarks.reports

# The front-end files under static/vendor/, rebuilt from package-lock.json (needs Node.js and npm;
# `make run` does not: the built files are committed).
assets:
	npm ci --no-audit --no-fund
	scripts/vendor-assets

# Debian/Ubuntu packages the project needs (venv support, CJK fonts, Chromium for browser tests).
system-packages:
	@scripts/install-system-packages

$(BIN)/python:
	@scripts/install-system-packages
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
