#!/usr/bin/env bash
# Load test: gunicorn on PostgreSQL on loopback, LOAD_USERS (200) locust users of mixed roles
# (bench/locustfile.py) for a bounded time, p50/p95/errors counted from the start, sign-ins included.
# gunicorn is sized for the machine: one sync worker per core (LOAD_WORKERS to change it).
#   DATABASE_URL=postgres://user:pass@127.0.0.1:5432/review_load bash bench/load.sh [seconds]
# The whole run's figures go to bench/load-results.json, and users/p95_ms/errors to bench/results.json.
# The database is filled with the demo city if it is empty (seed_demo does nothing otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-300}
USERS=${LOAD_USERS:-200}
PORT=${LOAD_PORT:-8050}
if [[ "${DATABASE_URL:-}" != postgres* ]]; then
    echo "bench/load.sh runs against PostgreSQL: set DATABASE_URL=postgres://..." >&2
    exit 2
fi
.venv/bin/python -m pip install --disable-pip-version-check -q -r bench/requirements.txt
# Production settings, plus the demo app (left out of production) to fill this throwaway database.
export DJANGO_DEBUG=0 DJANGO_DEMO=1 DJANGO_SECRET_KEY="load-test-$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0
export DJANGO_STATIC_ROOT=$(mktemp -d)
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py seed_demo > /dev/null
.venv/bin/python manage.py collectstatic --noinput -v0
.venv/bin/gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:$PORT --workers "${LOAD_WORKERS:-$(nproc)}" \
    --log-level warning --access-logfile /dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DJANGO_STATIC_ROOT"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break; sleep 0.2; done
REPORT=$(mktemp -d)
.venv/bin/locust -f bench/locustfile.py --headless -u "$USERS" -r 2 -t "${DURATION}s" \
    --host "http://127.0.0.1:$PORT" --csv "$REPORT/load" --only-summary > "$REPORT/log" 2>&1 || true
.venv/bin/python - "$REPORT/load_stats.csv" "$USERS" <<'PY'
import csv, json, os, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'page':<18} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8}")
summary = {}
for row in rows:
    name = row["Name"]
    print(f"{name:<18} {row['Request Count']:>9} {row['Failure Count']:>7} {row['50%']:>8} {row['95%']:>8}")
    summary[name] = {k: row[k] for k in ("Request Count", "Failure Count", "50%", "95%")}
json.dump(summary, open("bench/load-results.json", "w"), indent=2)
whole = summary["Aggregated"]
results = json.load(open("bench/results.json")) if os.path.exists("bench/results.json") else {}
results["load"] = {
    "users": int(sys.argv[2]),
    "p95_ms": float(whole["95%"]),
    "errors": int(whole["Failure Count"]),
    "requests": int(whole["Request Count"]),
    "database": "postgresql",
}
json.dump(results, open("bench/results.json", "w"), indent=2)
PY
