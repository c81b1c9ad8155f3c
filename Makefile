# Two commands on a fresh Debian machine: `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run
.PHONY: run setup test lint bench deps deps-test clean serve backup restore load

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# nodejs and npm are checked by command, not by package: Node.js from another source bundles npm.
# PDF output: WeasyPrint's fonts (Noto Serif CJK SC; DejaVu Sans for the tick boxes) and the
# HarfBuzz subsetter that keeps font embedding fast; `deps` cuts Noto down to the characters
# forms use, in var/fonts/ (scripts/subset_fonts.py: once, about 15 s).
APT_RUN := fonts-noto-cjk fonts-dejavu-core libharfbuzz-subset0
APT_TEST := postgresql chromium poppler-utils
HOST ?= 127.0.0.1:8000
# The demo town mid phase 2 (default), or at the start of phase 3 or 4: make run DEMO_STAGE=phase3
DEMO_STAGE ?= phase2

deps: $(VENV)/.installed node_modules/.installed
	@scripts/ensure_apt.sh $(APT_RUN) || echo "(PDF output needs the packages above; continuing)"
	@$(PY) scripts/subset_fonts.py var/fonts || echo "(PDFs use the system's Noto, more slowly; continuing)"

deps-test: deps
	@scripts/ensure_apt.sh $(APT_TEST)

# requirements.txt is just `-r requirements/dev.txt`; any pin file changing reinstalls.
$(VENV)/.installed: requirements.txt $(wildcard requirements/*.txt)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || scripts/ensure_apt.sh nodejs npm
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: deps
	DEBUG=1 $(PY) manage.py migrate --no-input -v 0
	DEBUG=1 $(PY) manage.py demo_town --stage $(DEMO_STAGE)

# The web server and the background worker (batch PDFs) side by side; Ctrl-C stops both.
run: setup
	@echo "==> http://$(HOST)/  with the background worker (Ctrl-C stops both)"
	DEBUG=1 scripts/run.sh $(HOST)

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: deps-test lint
	scripts/with_postgres.sh scripts/run_tests.sh

bench: deps-test
	scripts/with_postgres.sh scripts/bench.sh

# Production profile (README "生产部署 / Production"): needs DATABASE_URL (PostgreSQL) and SECRET_KEY.
serve: deps
	scripts/serve.sh

# pg_dump custom format of DATABASE_URL into BACKUP_FILE=… (default backups/dibao-<time>.dump).
backup:
	@scripts/ensure_apt.sh postgresql-client
	scripts/backup.sh

# Into a new, empty database: make restore BACKUP_FILE=… RESTORE_DATABASE_URL=postgres://…
# (both reach the script through the environment: a password never appears in `ps`).
restore:
	@scripts/ensure_apt.sh postgresql-client
	scripts/restore.sh

# 50 village cadres, then the same with a killed worker and a database restart (about 3 minutes).
load: deps-test
	scripts/with_postgres.sh $(PY) -m loadtest

clean:
	rm -rf $(VENV) node_modules staticfiles db.sqlite3 var
