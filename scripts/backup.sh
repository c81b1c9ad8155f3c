#!/usr/bin/env bash
# Back up the database (DATABASE_URL) to one file in pg_dump's custom format: compressed,
# restored with scripts/restore.sh. The file holds personal data: only its owner may read it.
# Usage: scripts/backup.sh [FILE]   (or BACKUP_FILE=…; default backups/dibao-YYYYmmdd-HHMMSS.dump)
set -euo pipefail
# shellcheck source=scripts/pg_env.sh
. "$(dirname "$0")/pg_env.sh"
[ -n "${DATABASE_URL:-}" ] || {
  echo "backup: DATABASE_URL 未设置 / is not set (the database to back up)" >&2
  exit 2
}
file=${1:-${BACKUP_FILE:-backups/dibao-$(date +%Y%m%d-%H%M%S).dump}}
pg_dump=$(pg_tool pg_dump)
pg_restore=$(pg_tool pg_restore)
pg_url "$DATABASE_URL"

umask 077
mkdir -p "$(dirname "$file")"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT
# One consistent snapshot of the whole database, however long the dump takes.
"$pg_dump" --format=custom --no-owner --no-privileges --file="$partial" --dbname="$PG_URL"
# Written and readable before it takes its name: a half-written file never looks like a backup.
"$pg_restore" --list "$partial" >/dev/null
mv "$partial" "$file"
echo "==> $file ($(du -h "$file" | cut -f1))"
