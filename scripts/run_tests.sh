#!/usr/bin/env bash
# The test suite proper: migrations check, then pytest (database from DATABASE_URL).
set -euo pipefail
py=.venv/bin/python
export SECRET_KEY=${SECRET_KEY:-test-only-not-secret}
$py manage.py makemigrations --check --dry-run
$py -m pytest "$@"
