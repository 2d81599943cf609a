#!/usr/bin/env bash
# How long a member paused by wrong passwords waits: the cool-off (15 minutes by default, so this takes
# about a quarter of an hour) and a secretary lifting the pause. gunicorn with production settings on
# PostgreSQL on loopback, the demo accounts; results in bench/signin-pause-results.json.
#   DATABASE_URL=postgres://user:pass@127.0.0.1:5432/review_pause bash bench/signin_pause.sh [poll seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PAUSE_PORT:-8060}
if [[ "${DATABASE_URL:-}" != postgres* ]]; then
    echo "bench/signin_pause.sh runs against PostgreSQL: set DATABASE_URL=postgres://..." >&2
    exit 2
fi
export DJANGO_DEBUG=0 DJANGO_DEMO=1 DJANGO_SECRET_KEY="pause-test-$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz-0123456789"
export DJANGO_ALLOWED_HOSTS=127.0.0.1,localhost DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_SECURE_COOKIES=0
export DJANGO_STATIC_ROOT=$(mktemp -d)
.venv/bin/python manage.py migrate -v0
.venv/bin/python manage.py seed_demo > /dev/null
.venv/bin/python manage.py collectstatic --noinput -v0
# A pause left by an earlier run would make this one start paused.
.venv/bin/python manage.py axes_reset > /dev/null
CELL=$(.venv/bin/python manage.py shell -c \
    "from organizations.models import RoleAssignment as R; print(R.objects.get(user__username='bithu').organization.code)" | tail -n 1)
.venv/bin/gunicorn config.wsgi:application --bind 127.0.0.1:$PORT --workers 2 --log-level warning &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$DJANGO_STATIC_ROOT"' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/accounts/login/" && break; sleep 0.2; done
.venv/bin/python bench/signin_pause.py "http://127.0.0.1:$PORT" "$CELL" "${1:-10}"
