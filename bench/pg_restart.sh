#!/usr/bin/env bash
# A PostgreSQL restart under load (README, "Measured": a database restart). As root, on a throwaway cluster of
# its own (never the main one, which others use): creates the cluster, the owner and the application's roles
# and a database, migrates as the owner, fills the demo city (as the application's role), starts gunicorn
# with production settings and the repository's configuration as the application's role, and for each of
# CONN_HEALTH_CHECKS off and on: 8 signed-in clients hammer a few pages, the cluster restarts (once under load,
# once between requests), the answers are counted before, during and after (bench/pg_restart_load.py). Drops
# the cluster at the end. The server's log (with the traceback of every failed request) goes to a temporary
# file, whose name is printed.
#   bash bench/pg_restart.sh        PG_RESTART_PORT (default 5433), PG_RESTART_HTTP_PORT (default 8061)
# Results: bench/pg-restart-results.json (one line per run).
set -euo pipefail
cd "$(dirname "$0")/.."
PG_PORT=${PG_RESTART_PORT:-5433}
HTTP_PORT=${PG_RESTART_HTTP_PORT:-8061}
CLUSTER=restartdemo
VERSION=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -n | tail -n 1)
OUT=bench/pg-restart-results.json
if pg_lsclusters -h | awk '{print $2}' | grep -qx "$CLUSTER"; then
    echo "a cluster named $CLUSTER already exists: drop it first (pg_dropcluster --stop $VERSION $CLUSTER)" >&2
    exit 2
fi
STATIC=$(mktemp -d)
SERVER=""
cleanup() {
    if [[ -n $SERVER ]]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
    pg_dropcluster --stop "$VERSION" "$CLUSTER" 2>/dev/null || true
    rm -rf "$STATIC"
}
trap cleanup EXIT

pg_createcluster "$VERSION" "$CLUSTER" --port "$PG_PORT" --start >/dev/null
(cd / && su postgres -c "psql -X -q -v ON_ERROR_STOP=1 -p $PG_PORT -d postgres") <<SQL
CREATE ROLE review_owner LOGIN PASSWORD 'owner';
CREATE ROLE review_app LOGIN PASSWORD 'app';
CREATE DATABASE review OWNER review_owner;
SQL
export DATABASE_URL="postgres://review_app:app@127.0.0.1:$PG_PORT/review"
OWNER_URL="postgres://review_owner:owner@127.0.0.1:$PG_PORT/review"
# Production settings, plus the demo app to fill this throwaway database.
export DJANGO_DEBUG=0 DJANGO_DEMO=1 DJANGO_SECRET_KEY="restart-$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
export DJANGO_ALLOWED_HOSTS=127.0.0.1 DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0 DJANGO_STATIC_ROOT=$STATIC
DATABASE_OWNER_URL=$OWNER_URL .venv/bin/python manage.py migrate -v 0
.venv/bin/python manage.py seed_demo --members 400 >/dev/null
.venv/bin/python manage.py collectstatic --noinput -v 0

LOG=$(mktemp /tmp/pg-restart-server-XXXX.log)
echo "server log: $LOG"
for health in 0 1; do
    for mode in "" --between-requests; do
        DJANGO_CONN_HEALTH_CHECKS=$health .venv/bin/gunicorn -c config/gunicorn.conf.py \
            --bind "127.0.0.1:$HTTP_PORT" --workers 3 --log-level warning --access-logfile /dev/null 2>>"$LOG" &
        SERVER=$!
        for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/accounts/login/" && break; sleep 0.2; done
        label="CONN_HEALTH_CHECKS $([[ $health == 1 ]] && echo on || echo off)"
        .venv/bin/python bench/pg_restart_load.py --url "http://127.0.0.1:$HTTP_PORT" --pg-port "$PG_PORT" \
            --restart "pg_ctlcluster $VERSION $CLUSTER restart" --label "$label" --out "$OUT" $mode
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null || true
        SERVER=""
    done
done
