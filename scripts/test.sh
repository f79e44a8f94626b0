#!/usr/bin/env bash
# Installs everything the tests need and runs the whole suite: type-check, lint, format, unit tests,
# then integration tests on both embedded PGlite and the PostgreSQL server, then system tests on hosts in
# network namespaces, then the web back-office's end-to-end tests in Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

ensure_node
ensure_packages
ensure_postgres
ensure_mariadb
ensure_npm_packages
build
say "checks and unit tests"
npm run --silent check
say "integration tests (PGlite and PostgreSQL)"
npm run --silent test:integration
say "system tests (hosts in network namespaces)"
npm run --silent test:system
say "end-to-end tests of the web back-office (Chromium)"
npm run --silent test:e2e
say "all tests passed"
