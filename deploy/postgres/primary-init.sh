#!/usr/bin/env bash
# The primary's one-time setup for docker-compose.scale.yml. The postgres image runs (sources)
# the scripts in /docker-entrypoint-initdb.d once, when it initialises an empty volume, with a
# server reachable over the local socket only; it restarts the server afterwards, which then
# reads the pg_hba.conf line added here.

# The replica's login, for streaming replication only.
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  --set db="$POSTGRES_DB" --set password="$REPLICATION_PASSWORD" <<'EOSQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
-- Behind PgBouncer the app's statement_timeout startup parameter is ignored (see
-- deploy/pgbouncer/pgbouncer.ini), so the database carries it: DB_STATEMENT_TIMEOUT_MS's default.
ALTER DATABASE :"db" SET statement_timeout = '10s';
EOSQL

# The image's pg_hba.conf lets `all` users reach `all` databases, which does not cover the
# replication pseudo-database: the replica's pg_basebackup and WAL stream need their own line.
printf 'host replication replicator all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
