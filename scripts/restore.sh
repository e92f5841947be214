#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an empty PostgreSQL database, all or nothing.
#
#   scripts/restore.sh FILE TARGET_DATABASE_URL
#
# Refuses a database that already has tables in it: restore into a new database (createdb), check
# it, then point the service at it. Restored in one transaction, so an error leaves the target as it
# was. Owners and grants are restored as they were dumped, so the roles they name must exist (in
# production, the owner and the application role that may only INSERT into and SELECT from the
# access log). Then checks the access log and its append-only trigger came back and prints the
# number of rows of each table.
set -euo pipefail

file="${1:?Usage: scripts/restore.sh FILE TARGET_DATABASE_URL}"
target="${2:?Usage: scripts/restore.sh FILE TARGET_DATABASE_URL}"
[ -r "$file" ] || { echo "ERROR: cannot read $file" >&2; exit 2; }

query() { psql --no-psqlrc --quiet --tuples-only --no-align --set ON_ERROR_STOP=1 --dbname="$target" --command="$1"; }

tables=$(query "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
  echo "ERROR: the target database already has $tables tables; restore only into an empty database" >&2
  exit 3
fi

pg_restore --exit-on-error --single-transaction --dbname="$target" "$file"

trigger=$(query "SELECT count(*) FROM pg_trigger WHERE tgname = 'cases_access_log_append_only' AND tgenabled <> 'D'")
if [ "$trigger" != "1" ]; then
  echo "ERROR: the access log's append-only trigger is missing or disabled in the restored database" >&2
  exit 4
fi
echo "Restored $file; the access log's append-only trigger is in place. Rows per table:"
query "SELECT format('%s %s', relname, n) FROM (
         SELECT c.relname, (xpath('/row/n/text()',
                query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS n
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname = 'public') counts
       ORDER BY relname"
