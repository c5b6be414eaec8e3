#!/bin/sh
# PostgreSQL standing in for Materialize in compose/offline.yaml (same wire
# protocol; every report says so). Runs as the `postgres` user on the
# flowforge base image with the host's /usr mounted read-only.
#
#   FF_PG_BIN   folder of initdb/postgres/pg_isready/createdb (required)
#   PGDATA      data folder to create; its parent must be writable by this
#               user (a tmpfs mounted mode=1777), the folder itself must not exist
#   PGPORT      listen port (6875, Materialize's)
#
# initdb + createdb give user and database `materialize` with trust auth,
# like the Materialize Emulator's defaults; pg_stat_statements (preloaded,
# created in the database) is for the harness's server-side vantage. SIGTERM
# (docker stop) becomes PostgreSQL's fast shutdown (SIGINT): open client
# connections (the backend's pool) would hold a smart shutdown until the stop
# timeout's SIGKILL.
set -eu

: "${FF_PG_BIN:?FF_PG_BIN is not set (PostgreSQL bin folder, e.g. /usr/lib/postgresql/15/bin)}"
PGDATA="${PGDATA:-/var/lib/pg/data}"
PGPORT="${PGPORT:-6875}"
DB_USER=materialize
DB_NAME=materialize
# /var/run/postgresql does not exist in the base image.
SOCKET_DIR=/tmp

log() { echo "postgres-entry: $*" >&2; }

"$FF_PG_BIN/initdb" -D "$PGDATA" -U "$DB_USER" --auth=trust --no-sync -E UTF8 >/dev/null
# initdb's pg_hba.conf trusts only the socket and loopback; the seed, the
# backend (via Toxiproxy) and the probes come from other containers on the
# stack's private network, which is the only way in (no published port).
printf 'host all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' >>"$PGDATA/pg_hba.conf"

"$FF_PG_BIN/postgres" -D "$PGDATA" -p "$PGPORT" \
    -c listen_addresses='*' -c unix_socket_directories="$SOCKET_DIR" \
    -c fsync=off -c max_connections=200 -c shared_preload_libraries=pg_stat_statements &
pid=$!

stop() {
    log "stopping PostgreSQL (fast shutdown)"
    kill -INT "$pid" 2>/dev/null || true
}
trap stop TERM INT

tries=0
until "$FF_PG_BIN/pg_isready" -q -h "$SOCKET_DIR" -p "$PGPORT" -U "$DB_USER"; do
    if ! kill -0 "$pid" 2>/dev/null; then
        log "PostgreSQL exited before accepting connections"
        wait "$pid" || exit $?
        exit 1
    fi
    tries=$((tries + 1))
    if [ "$tries" -ge 300 ]; then
        log "PostgreSQL not ready after 30 s"
        stop
        wait "$pid" || true
        exit 1
    fi
    sleep 0.1
done

"$FF_PG_BIN/createdb" -h "$SOCKET_DIR" -p "$PGPORT" -U "$DB_USER" "$DB_NAME"
"$FF_PG_BIN/psql" -h "$SOCKET_DIR" -p "$PGPORT" -U "$DB_USER" -d "$DB_NAME" -v ON_ERROR_STOP=1 -qc \
    "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"
log "ready: database $DB_NAME, user $DB_USER, port $PGPORT"

# `wait` returns early when a trapped signal arrives; loop until PostgreSQL
# itself has exited, and pass its status on.
status=0
while kill -0 "$pid" 2>/dev/null; do
    wait "$pid" && status=0 || status=$?
done
exit "$status"
