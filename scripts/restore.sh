#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into a given, empty database.
# Usage: scripts/restore.sh FILE DATABASE_URL_OF_THE_TARGET
#        (or BACKUP_FILE=… RESTORE_DATABASE_URL=… scripts/restore.sh)
# Create the target first (createdb, or CREATE DATABASE … OWNER dibao). The restore runs in
# one transaction, all or nothing, and refuses a database that already has tables: it never
# mixes a backup with, or writes it over, data that is there.
set -euo pipefail
# shellcheck source=scripts/pg_env.sh
. "$(dirname "$0")/pg_env.sh"
file=${1:-${BACKUP_FILE:-}}
target=${2:-${RESTORE_DATABASE_URL:-}}
if [ -z "$file" ] || [ -z "$target" ]; then
  echo "usage: scripts/restore.sh BACKUP_FILE TARGET_DATABASE_URL" >&2
  echo "       (make restore BACKUP_FILE=backups/….dump RESTORE_DATABASE_URL=postgres://…/dibao_restored)" >&2
  exit 2
fi
[ -r "$file" ] || {
  echo "restore: cannot read $file" >&2
  exit 2
}
psql=$(pg_tool psql)
pg_restore=$(pg_tool pg_restore)
pg_url "$target"

tables=$("$psql" --no-psqlrc -At --dbname="$PG_URL" -c "select count(*) from pg_tables where schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "restore: the target database already has $tables tables; restore only into a new, empty database" >&2
  exit 1
fi
"$pg_restore" --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$PG_URL" "$file"
"$psql" --no-psqlrc -At --dbname="$PG_URL" -F ' ' -c "
  select 'households', count(*) from cases_household
  union all select 'surveys', count(*) from surveys_survey
  union all select 'audit events', count(*) from cases_auditevent" | sed 's/^/==> restored /'
