#!/bin/sh
# The streaming replica of docker-compose.scale.yml. On an empty volume it clones the primary
# with pg_basebackup; -R (--write-recovery-conf) writes standby.signal and primary_conninfo, so
# the server starts as a hot standby that streams the primary's WAL. Then the image's own
# entrypoint takes over: it sees an existing data directory (no initdb), fixes its ownership,
# drops to the postgres user and starts the server. A volume that already holds a clone just
# starts again, and catches up from the primary.
set -eu

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "replica: cloning postgres-primary into $PGDATA"
  # pg_basebackup refuses a non-empty target; a clone interrupted half-way starts over.
  rm -rf "${PGDATA:?}"/* "${PGDATA:?}"/.[!.]* 2>/dev/null || true
  # PGPASSWORD (the replicator's) comes from the compose file; primary_conninfo keeps it.
  pg_basebackup --host=postgres-primary --port=5432 --username=replicator \
    --pgdata="$PGDATA" --wal-method=stream --write-recovery-conf --checkpoint=fast
fi

exec docker-entrypoint.sh "$@"
