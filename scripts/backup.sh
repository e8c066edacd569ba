#!/usr/bin/env bash
# Back up Atelier: the PostgreSQL database (pg_dump, custom format) and the media files (rsync), with checksums.
#
#   DATABASE_URL=postgres://… MEDIA_ROOT=/app/var/media scripts/backup.sh /backups
#
# Writes /backups/atelier-<UTC timestamp>/{db.dump,media/,SHA256SUMS} and points /backups/latest at it.
# Unchanged media files are hard links into the previous backup (rsync --link-dest), so daily backups of a
# large collection cost only what changed. The database is dumped first, then the media copied: every file a
# dumped row names already exists when rsync runs (ingest writes files before rows). Files uploaded meanwhile
# are copied without their rows; after a restore, housekeeping removes them as orphans.
# Run it from cron or a systemd timer on the database host or any host that can reach PostgreSQL and the media
# volume; keep the backups on other storage than the data.
set -euo pipefail

dest="${1:?usage: scripts/backup.sh DESTINATION_DIR}"
: "${DATABASE_URL:?set DATABASE_URL (postgres://user:password@host:port/db)}"
: "${MEDIA_ROOT:?set MEDIA_ROOT (the media directory of the deployment)}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "backup.sh: DATABASE_URL must be a PostgreSQL URL, not ${DATABASE_URL%%:*}" >&2; exit 2 ;;
esac
[ -d "$MEDIA_ROOT" ] || { echo "backup.sh: MEDIA_ROOT $MEDIA_ROOT is not a directory" >&2; exit 2; }

mkdir -p "$dest"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
target="$dest/atelier-$stamp"
partial="$target.partial"
rm -rf "$partial"
mkdir -p "$partial"

pg_dump --format=custom --no-owner --no-privileges --file "$partial/db.dump" "$DATABASE_URL"

link_dest=()
if [ -d "$dest/latest/media" ]; then
  link_dest=(--link-dest "$(cd "$dest/latest/media" && pwd)")
fi
rsync -a --delete "${link_dest[@]}" "$MEDIA_ROOT/" "$partial/media/"

(
  cd "$partial"
  sha256sum db.dump > SHA256SUMS
  find media -type f -print0 | sort -z | xargs -0 -r sha256sum >> SHA256SUMS
)
# Only a complete backup gets its final name, so "latest" never points at a half-written one.
mv "$partial" "$target"
ln -sfn "$(basename "$target")" "$dest/latest"
echo "$target"
