# shellcheck shell=bash
# Sourced by backup.sh and restore.sh.
#   pg_tool NAME  the path of a PostgreSQL client program (newest installed version first)
#   pg_url URL    sets PG_URL to URL without its password, and exports the password as PGPASSWORD:
#                 a password in the command line would show in `ps` to every user of the machine.

pg_tool() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$bin" ] && [ -x "$bin/$1" ]; then
    echo "$bin/$1"
  elif command -v "$1" >/dev/null; then
    command -v "$1"
  else
    echo "$1 not found: apt-get install postgresql-client" >&2
    return 1
  fi
}

pg_url() {
  local settings
  settings=$(
    python3 - "$1" <<'PY'
import shlex
import sys
import urllib.parse as up

url = up.urlsplit(sys.argv[1])
if url.scheme not in ("postgres", "postgresql"):
    sys.exit("not a PostgreSQL URL (postgres://user@host:port/name)")
# netloc by hand: .hostname would lower-case a socket folder such as %2Ftmp%2Fdibao-pg.AbC.
userinfo, _, hostport = url.netloc.rpartition("@")
user, _, password = userinfo.partition(":")
netloc = f"{user}@{hostport}" if user else hostport
print("PG_URL=" + shlex.quote(up.urlunsplit(("postgresql", netloc, url.path, url.query, ""))))
if password:
    print("export PGPASSWORD=" + shlex.quote(up.unquote(password)))
PY
  ) || return 1
  eval "$settings"
}
