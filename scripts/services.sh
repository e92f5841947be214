#!/usr/bin/env bash
# Make sure PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) are up for the test suite.
# Starts them when they are down; exits non-zero with a reason when it cannot.
set -euo pipefail

postgres_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

if ! postgres_up; then
  echo "PostgreSQL is down; starting it"
  if [ -d /etc/postgresql ]; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do postgres_up && break; sleep 1; done
  postgres_up || { echo "ERROR: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }
fi

if ! redis_up; then
  echo "Redis is down; starting it"
  redis-server --daemonize yes --port 6379 --save "" --appendonly no || true
  for _ in $(seq 1 30); do redis_up && break; sleep 1; done
  redis_up || { echo "ERROR: Redis is not reachable on 127.0.0.1:6379" >&2; exit 1; }
fi
echo "PostgreSQL and Redis are up"
