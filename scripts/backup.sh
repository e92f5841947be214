#!/usr/bin/env bash
# Back up the service's PostgreSQL database (DATABASE_URL) to one file, in pg_dump's custom format:
# every table, the access log with its append-only trigger, functions, indexes and grants.
#
#   DATABASE_URL=postgres://... scripts/backup.sh [FILE]
#
# FILE defaults to backups/reoffending-<UTC time>.dump. The dump is written beside FILE and only
# renamed to FILE once pg_dump has finished and pg_restore can read its table of contents, so FILE
# is never a half-written backup. Prints the file's name and size.
set -euo pipefail

: "${DATABASE_URL:?Set DATABASE_URL to the PostgreSQL database to back up}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "ERROR: backups need PostgreSQL; DATABASE_URL is not a postgres:// URL" >&2; exit 2 ;;
esac

file="${1:-backups/reoffending-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$file")"
partial="$file.partial"
trap 'rm -f "$partial"' EXIT

# A consistent snapshot of the whole database, taken without blocking the service's writes.
pg_dump --format=custom --compress=6 --serializable-deferrable --file="$partial" --dbname="$DATABASE_URL"
pg_restore --list "$partial" > /dev/null
mv "$partial" "$file"
trap - EXIT
echo "Backed up to $file ($(du -h "$file" | cut -f1))"
