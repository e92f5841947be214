#!/usr/bin/env bash
# Validate docker-compose.yml with Compose v2 when present, else Debian's docker-compose.
set -euo pipefail
export POSTGRES_PASSWORD=compose-check SECRET_KEY=compose-check
if docker compose version >/dev/null 2>&1; then
  docker compose config --quiet
else
  if ! command -v docker-compose >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" != "0" ] && SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker-compose >/dev/null
  fi
  docker-compose config --quiet
fi
echo "docker-compose.yml is valid"
