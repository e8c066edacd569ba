#!/usr/bin/env bash
# Restore an Atelier backup written by scripts/backup.sh into DATABASE_URL and MEDIA_ROOT.
#
#   DATABASE_URL=postgres://… MEDIA_ROOT=/app/var/media scripts/restore.sh /backups/latest --yes
#
# Procedure (docker compose): stop web, workers and beat (`docker compose stop web worker worker-gpu beat`),
# run this script, run `python manage.py migrate` (a backup from an older release), start the services again.
# The checksums are verified first: a damaged backup is refused and nothing is touched. The database is
# restored in one transaction (--single-transaction): it either fully replaces the data or is left as it was.
# The media directory is then made identical to the backup's (files not in the backup are removed).
set -euo pipefail

source_dir="${1:?usage: scripts/restore.sh BACKUP_DIR --yes}"
[ "${2:-}" = "--yes" ] || { echo "restore.sh: this replaces the database and the media; add --yes" >&2; exit 2; }
: "${DATABASE_URL:?set DATABASE_URL (postgres://user:password@host:port/db)}"
: "${MEDIA_ROOT:?set MEDIA_ROOT (the media directory to restore into)}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "restore.sh: DATABASE_URL must be a PostgreSQL URL" >&2; exit 2 ;;
esac
source_dir="$(cd "$source_dir" && pwd -P)"
for required in db.dump SHA256SUMS; do
  [ -f "$source_dir/$required" ] || { echo "restore.sh: $source_dir/$required is missing" >&2; exit 1; }
done

if ! (cd "$source_dir" && sha256sum --quiet --check SHA256SUMS); then
  echo "restore.sh: checksum verification failed: the backup is damaged; nothing was restored" >&2
  exit 1
fi

pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname "$DATABASE_URL" "$source_dir/db.dump"

mkdir -p "$MEDIA_ROOT"
if [ -d "$source_dir/media" ]; then
  rsync -a --delete "$source_dir/media/" "$MEDIA_ROOT/"
fi
echo "restored $source_dir"
