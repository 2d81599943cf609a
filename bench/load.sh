#!/usr/bin/env bash
# Load test: gunicorn on PostgreSQL on loopback, 50 locust users for a bounded time, p50/p95/errors.
# The figures count from the moment all 50 users have signed in (--reset-stats): signing in hashes
# the password on purpose slowly, and is not what the pages cost.
#   DATABASE_URL=postgres://user:pass@127.0.0.1:5432/review_load bash bench/load.sh [seconds]
# The database is filled with the demo city if it is empty (seed_demo does nothing otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-60}
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
.venv/bin/gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:$PORT --workers "${LOAD_WORKERS:-4}" \
    --log-level warning --access-logfile /dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DJANGO_STATIC_ROOT"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break; sleep 0.2; done
REPORT=$(mktemp -d)
.venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 10 -t "${DURATION}s" \
    --host "http://127.0.0.1:$PORT" --csv "$REPORT/load" --only-summary --reset-stats > "$REPORT/log" 2>&1 || true
.venv/bin/python - "$REPORT/load_stats.csv" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
print(f"{'page':<18} {'requests':>9} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8}")
summary = {}
for row in rows:
    name = row["Name"]
    print(f"{name:<18} {row['Request Count']:>9} {row['Failure Count']:>7} {row['50%']:>8} {row['95%']:>8}")
    summary[name] = {k: row[k] for k in ("Request Count", "Failure Count", "50%", "95%")}
json.dump(summary, open("bench/load-results.json", "w"), indent=2)
# The whole run's figures in bench/results.json's place for them (bench/run.py keeps it).
total = next((row for row in rows if row["Name"] == "Aggregated"), None)
if total is not None:
    import pathlib
    path = pathlib.Path("bench/results.json")
    results = json.loads(path.read_text()) if path.exists() else {}
    results["load"] = {"users": 50, "p95_ms": float(total["95%"]), "errors": int(total["Failure Count"])}
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
PY
