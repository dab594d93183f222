# Two commands for a new user: `make run` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python

# Django 6 needs Python 3.12+; the machine's default python3 may be older, so look for one.
PYTHON ?= $(shell for p in python3.12 python3.13 $$HOME/.pyenv/versions/3.12*/bin/python3 \
	$$HOME/.pyenv/versions/3.13*/bin/python3 /usr/local/bin/python3.1[23] /usr/bin/python3.1[23] python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; \
	then command -v $$p; break; fi; done)

TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
# xdist worker gwN uses Redis database (this one + N): the default 14 with 2 workers uses 14 and 15.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
# pytest-xdist processes (the machines have 2 cores); TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
PYTEST_ARGS ?=
# A whole run measures coverage and enforces the floor in pyproject.toml ([tool.coverage.report]);
# a partial run (PYTEST_ARGS set) skips it, since a subset cannot reach the floor.
COVERAGE_ARGS ?= $(if $(strip $(PYTEST_ARGS)),,--cov --cov-report=term:skip-covered)

.PHONY: help run test test-services install lint bench check-deploy clean

help:
	@echo "make run    - install, migrate, load the seed catalogue, start web + worker + beat"
	@echo "make test   - run the whole test suite on PostgreSQL and Redis"
	@echo "make bench  - run the benchmarks in bench/ (see README)"
	@echo "make lint   - ruff and mypy"

# Development installs requirements/dev.txt (base.txt, what production runs, plus the local Stripe
# stand-in that `make run` starts without keys, and the test and lint tools). The image installs base.txt only.
$(VENV)/.installed: $(wildcard requirements/*.txt)
	@if [ -z "$(PYTHON)" ]; then echo "No Python 3.12 or newer found (set PYTHON=/path/to/python3.12)." >&2; exit 1; fi
	@if [ -x $(PY) ] && ! $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then rm -rf $(VENV); fi
	@echo "Using $(PYTHON) ($$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_seed_catalogue
	$(PY) manage.py load_seed_catalogue pumps/seed/refill_kits.yaml
	$(PY) manage.py runstack

# Starts PostgreSQL and Redis when they are down and installs Chromium when it is missing.
test-services:
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) scripts/test-services

test: $(VENV)/.installed test-services
	PHARMACY_ENV=test DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(COVERAGE_ARGS) $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(VENV)/.installed
	PHARMACY_ENV=test DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) bench/run.py

check-deploy: $(VENV)/.installed
	PHARMACY_ENV=production SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=pharmacy.example \
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) STRIPE_SECRET_KEY=sk_live_x \
	STRIPE_PUBLISHABLE_KEY=pk_live_x STRIPE_WEBHOOK_SECRET=whsec_x $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) var db.sqlite3 .coverage .coverage.* .mypy_cache
