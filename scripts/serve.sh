#!/usr/bin/env bash
# The production profile: check the environment, bring the database and the static files up
# to date, then run the site's processes under a small supervisor.
#
#   DATABASE_URL=postgres://dibao:…@127.0.0.1:5432/dibao SECRET_KEY=… PROXY_COUNT=1 scripts/serve.sh
#
# Processes: gunicorn (dibao/gunicorn.conf.py; BIND, WEB_CONCURRENCY) and the background worker
# (`manage.py db_worker`: batch PDFs), each a process of its own. Ctrl-C or SIGTERM stops them
# all, gracefully; if any one of them ends, the others are stopped and the script exits
# non-zero, so that the service manager (systemd Restart=on-failure) starts the whole set again.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

fail() {
  echo "serve: $*" >&2
  exit 2
}
[ -n "${SECRET_KEY:-}" ] || fail "SECRET_KEY 未设置 / is not set. Make one once and keep it secret and unchanged:
  $py -c 'import secrets; print(secrets.token_urlsafe(50))'"
[ -n "${DATABASE_URL:-}" ] || fail "DATABASE_URL 未设置 / is not set, e.g. postgres://dibao:PASSWORD@127.0.0.1:5432/dibao"
case "$DATABASE_URL" in
  postgres://* | postgresql://*) ;;
  *) fail "生产环境使用 PostgreSQL / production runs on PostgreSQL: DATABASE_URL must start with postgres://" ;;
esac
case "${DEBUG:-}" in
  "" | 0 | false | no | off) ;;
  *) fail "DEBUG=$DEBUG: 生产环境不能开启调试 / the production profile never runs with DEBUG on (unset it)" ;;
esac
# Several worker processes: the cache they share lives in the database.
export CACHE_BACKEND=${CACHE_BACKEND:-database}

echo "==> migrate, cache table, static files, the forms' font"
$py manage.py migrate --no-input -v 0
$py manage.py createcachetable
$py manage.py collectstatic --no-input -v 0
# The forms' cut-down font (once; reports/pdf.py): without it PDFs use the system's Noto, slower.
$py scripts/subset_fonts.py var/fonts || echo "serve: PDFs use the system's Noto, more slowly" >&2
# Warnings (e.g. SECURE_COOKIES=0 on plain HTTP) are shown to the operator; errors stop here.
$py manage.py check --deploy

# Files past their time, and jobs left running by the last run's worker (none runs now): cleared
# before starting.
$py manage.py cleanup_exports --interrupted

# Each process leads a process group of its own (gunicorn's workers stop with their master,
# even if it was killed); see scripts/supervise.sh.
. scripts/supervise.sh
start .venv/bin/gunicorn --config dibao/gunicorn.conf.py
# The worker takes the queued jobs one at a time. A job cut short by a stop is marked
# interrupted (on the worker's way out, or by cleanup_exports above if it was killed), and its
# requester starts it again from its page.
start $py manage.py db_worker --no-reload --interval 2
supervise serve
