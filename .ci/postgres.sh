#!/usr/bin/env bash
# Start a local PostgreSQL for the store tests (CI: fresh Debian 12, run as root, before `make test`).
#
# On success prints one line on stdout, ready for `>> "$GITHUB_ENV"` or `export "$(...)"`:
#   FACETRUST_TEST_PG_URL=postgresql+psycopg://facetrust_test:PASSWORD@127.0.0.1:PORT/facetrust_test
# Everything else goes to stderr. Idempotent: a second run finds everything in place and prints the same line.
# Never fails CI: when PostgreSQL cannot be installed or started it warns and exits 0 (the PG tests then skip).
set -uo pipefail

NAME=facetrust_test                                  # role and database
PASSWORD=${FACETRUST_TEST_PG_PASSWORD:-facetrust_test} # loopback-only throwaway database; must be URL-safe
PORT=${FACETRUST_TEST_PG_PORT:-5432}                 # used only when we initdb our own cluster
DATADIR=${FACETRUST_TEST_PG_DATADIR:-/tmp/facetrust-pg}

log() { echo "postgres.sh: $*" >&2; }
give_up() { log "WARNING: $*; the PostgreSQL store tests will be skipped"; exit 0; }

[[ $(id -u) -eq 0 ]] || give_up "must run as root (to install, start the cluster and create the role)"

pg_bindir() {  # newest installed server's bin dir, empty when none
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [[ -n $d && -x $d/postgres ]] && echo "$d"
}

if ! command -v pg_ctlcluster >/dev/null || [[ -z $(pg_bindir) ]]; then
    log "PostgreSQL is not installed; installing it with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # timeout: with no network apt can hang on connects; the tests must not wait for it.
    timeout 300 apt-get update -qq >&2 || log "apt-get update failed (no network?); trying the cached lists"
    timeout 600 apt-get install -y -qq --no-install-recommends postgresql >&2 \
        || give_up "apt-get install postgresql failed (no network?)"
fi
BIN=$(pg_bindir)
[[ -n $BIN ]] || give_up "no PostgreSQL server binaries under /usr/lib/postgresql"
id postgres >/dev/null 2>&1 || give_up "there is no 'postgres' system user"

as_pg() { runuser -u postgres -- "$@"; }

# A Debian cluster (the package creates 15/main) if there is one, else our own initdb'd data dir.
read -r VER CLUSTER CPORT STATUS _ < <(pg_lsclusters -h 2>/dev/null | sort -V | tail -n 1)
if [[ -n ${VER:-} ]]; then
    PORT=$CPORT
    SOCKDIR=/var/run/postgresql
    # Containers often have a fresh /run: the socket dir must exist before the server starts.
    install -d -o postgres -g postgres -m 2775 "$SOCKDIR"
    if [[ $STATUS != online* ]]; then
        log "starting cluster $VER/$CLUSTER on port $PORT"
        pg_ctlcluster "$VER" "$CLUSTER" start >&2 || give_up "pg_ctlcluster $VER $CLUSTER start failed"
    fi
else
    SOCKDIR=$DATADIR
    install -d -o postgres -g postgres -m 0700 "$DATADIR"
    if [[ ! -f $DATADIR/data/PG_VERSION ]]; then
        log "no cluster: initdb into $DATADIR/data"
        as_pg "$BIN/initdb" -D "$DATADIR/data" -U postgres -E UTF8 \
            --auth-local=peer --auth-host=scram-sha-256 >&2 || give_up "initdb failed"
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$DATADIR/data" status >/dev/null 2>&1; then
        log "starting PostgreSQL from $DATADIR/data on 127.0.0.1:$PORT"
        as_pg "$BIN/pg_ctl" -D "$DATADIR/data" -l "$DATADIR/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PORT -k $SOCKDIR" start >&2 \
            || give_up "pg_ctl start failed (see $DATADIR/server.log)"
    fi
fi

for _ in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || give_up "the server on 127.0.0.1:$PORT is not accepting connections"

psql_admin() { as_pg psql -X -q -v ON_ERROR_STOP=1 -h "$SOCKDIR" -p "$PORT" -d postgres "$@"; }

# Role: create or reset its password (so a changed FACETRUST_TEST_PG_PASSWORD takes effect on rerun).
psql_admin >&2 <<SQL || give_up "could not create role $NAME"
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$NAME') THEN
    CREATE ROLE $NAME LOGIN PASSWORD '$PASSWORD';
  ELSE
    ALTER ROLE $NAME LOGIN PASSWORD '$PASSWORD';
  END IF;
END \$\$;
SQL
if [[ $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$NAME'") != 1 ]]; then
    psql_admin -c "CREATE DATABASE $NAME OWNER $NAME ENCODING 'UTF8' TEMPLATE template0" >&2 \
        || give_up "could not create database $NAME"
fi

# Prove the URL works the way the tests will use it: TCP on loopback with the password.
PGPASSWORD=$PASSWORD psql -X -q -h 127.0.0.1 -p "$PORT" -U "$NAME" -d "$NAME" -tAc "SELECT 1" >/dev/null \
    || give_up "cannot log in as $NAME over 127.0.0.1:$PORT"

log "ready"
echo "FACETRUST_TEST_PG_URL=postgresql+psycopg://$NAME:$PASSWORD@127.0.0.1:$PORT/$NAME"
