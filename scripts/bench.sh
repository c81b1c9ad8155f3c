#!/usr/bin/env bash
set -euo pipefail
export SECRET_KEY=${SECRET_KEY:-bench-only-not-secret}
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py bench "$@"
