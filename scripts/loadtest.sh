#!/bin/sh
# Load test: the app under gunicorn on the generated partnership, 50 signed-in users for 60 seconds.
# Run through `make loadtest`, which generates the data (once) and the sessions first.
set -eu
PORT="${LOADTEST_PORT:-8765}"
USERS="${LOADTEST_USERS:-50}"
DURATION="${LOADTEST_DURATION:-60s}"
WORKERS="${LOADTEST_WORKERS:-$(( $(nproc) * 2 + 1 ))}"
BIN="${BIN:-.venv/bin}"
mkdir -p test-artifacts

PYTHONPATH=scripts DJANGO_SETTINGS_MODULE=bench_settings "$BIN/gunicorn" reoffending.wsgi:application \
    --bind "127.0.0.1:$PORT" --workers "$WORKERS" --log-level warning --access-logfile - \
    > test-artifacts/loadtest-gunicorn.log 2>&1 &
GUNICORN=$!
trap 'kill "$GUNICORN" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 60); do
    curl -fs "http://127.0.0.1:$PORT/health/live/" > /dev/null 2>&1 && break
    sleep 0.5
done

# Warm up every worker (imports, templates, database connections) as a server in service would be.
SESSIONS_FILE=test-artifacts/sessions.json LOADTEST_WAIT=0.2,0.5 "$BIN/locust" -f scripts/locustfile.py --headless \
    --users 10 --spawn-rate 10 --run-time 15s --host "http://127.0.0.1:$PORT" --only-summary > /dev/null 2>&1

echo "gunicorn with $WORKERS workers on $(nproc) cores; $USERS users for $DURATION, ${LOADTEST_WAIT:-3,10} s between pages"
SESSIONS_FILE=test-artifacts/sessions.json "$BIN/locust" -f scripts/locustfile.py --headless \
    --users "$USERS" --spawn-rate 10 --run-time "$DURATION" --host "http://127.0.0.1:$PORT" \
    --csv test-artifacts/loadtest --only-summary --stop-timeout 5
