#!/usr/bin/env bash
# Development (`make run`): the web server and the background worker side by side, in the
# foreground; Ctrl-C stops both. Usage: scripts/run.sh HOST:PORT (DEBUG=1 is set by make).
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
# Jobs left running by a worker that is gone (no other runs in development): cleared before
# starting, and again on the way out (the reloader ends its worker without a word).
$py manage.py cleanup_exports --interrupted
. scripts/supervise.sh
trap '$py manage.py cleanup_exports --interrupted >/dev/null 2>&1 || true' EXIT
STOP_GRACE=${STOP_GRACE:-5}
start $py manage.py runserver "${1:-127.0.0.1:8000}"
# Reloaded on code changes like runserver (DEBUG); a job cut short by a reload is marked
# interrupted and can be started again from its page.
start $py manage.py db_worker --interval 1
supervise run
