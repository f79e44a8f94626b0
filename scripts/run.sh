#!/usr/bin/env bash
# Installs what Gatehouse needs and runs it on the embedded store with the demo fleet.
# Extra arguments go to `gatehouse serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_node
ensure_packages
ensure_postgres   # the demo fleet's databases point at the machine's PostgreSQL and MariaDB
ensure_mariadb
ensure_npm_packages
build
say "starting Gatehouse (embedded store in ${GATEHOUSE_DATA_DIR:-./data})"
exec node dist/src/main.js serve --demo "$@"
