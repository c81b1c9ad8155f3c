#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster that lives in a temporary
# folder, listens only on a Unix socket, and is removed afterwards.
# Usage: scripts/with_postgres.sh COMMAND [ARGS...]   (DATABASE_URL is exported)
set -euo pipefail
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pgbin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }
dir=$(mktemp -d /tmp/dibao-pg.XXXXXX)
port=${PGPORT_THROWAWAY:-54329}
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root: the cluster belongs to the postgres user.
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_owner[@]}" "$pgbin/initdb" -D "$dir/data" -U dibao -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
"${as_owner[@]}" "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
  "-k $dir -p $port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
"$pgbin/createdb" -h "$dir" -p "$port" -U dibao dibao
export DATABASE_URL="postgres://dibao@$(python3 -c 'import sys,urllib.parse;print(urllib.parse.quote(sys.argv[1],safe=""))' "$dir"):$port/dibao"
echo "==> throwaway PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') at $dir"
"$@"
