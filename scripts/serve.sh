#!/usr/bin/env bash
# The production profile: check the environment, bring the database and the static files up
# to date, then run the site's processes under a small supervisor.
#
#   DATABASE_URL=postgres://dibao:…@127.0.0.1:5432/dibao SECRET_KEY=… PROXY_COUNT=1 scripts/serve.sh
#
# Processes: gunicorn (dibao/gunicorn.conf.py; BIND, WEB_CONCURRENCY). A background worker
# added later is one more `start` line below. Ctrl-C or SIGTERM stops them all, gracefully;
# if any one of them ends, the others are stopped and the script exits non-zero, so that the
# service manager (systemd Restart=on-failure) starts the whole set again.
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

echo "==> migrate, cache table, static files"
$py manage.py migrate --no-input -v 0
$py manage.py createcachetable
$py manage.py collectstatic --no-input -v 0
# Warnings (e.g. SECURE_COOKIES=0 on plain HTTP) are shown to the operator; errors stop here.
$py manage.py check --deploy

# Each process leads a process group of its own, so that stopping it reaches its children too
# (gunicorn's workers, even if their master was killed); Ctrl-C reaches this script, which
# passes it on as SIGTERM: a graceful stop.
pids=()
start() {
  setsid "$@" &
  pids+=("$!")
}
stop() {
  trap - INT TERM
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  wait || true
}
trap 'echo "==> stopping"; stop; exit 0' INT TERM

start .venv/bin/gunicorn --config dibao/gunicorn.conf.py

status=0
wait -n || status=$?
echo "serve: a process ended (status $status); stopping the others" >&2
stop
exit $((status == 0 ? 1 : status))
