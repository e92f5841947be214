#!/usr/bin/env bash
# Validate docker-compose.yml with Compose v2 when present, else Debian's docker-compose.
# (What the file must contain, such as migrations before web, worker and beat, is tested in
# tests/test_deploy_config.py; the same commands are run without containers in tests/test_production.py.)
set -euo pipefail
cd "$(dirname "$0")/.."
export POSTGRES_PASSWORD=compose-check SECRET_KEY=compose-check SITE_HOST=cases.example.gov.uk
export TLS_CERT_DIR=/etc/ssl/certs
if docker compose version >/dev/null 2>&1; then
  docker compose config --quiet
else
  if ! command -v docker-compose >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" != "0" ] && SUDO="sudo"
    # A fresh machine has empty package lists: refresh them before installing.
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq docker-compose >/dev/null
  fi
  docker-compose config --quiet
fi
echo "docker-compose.yml is valid"
