#!/usr/bin/env bash
# Runs every test of shezhi: unit, store (on SQLite and on PostgreSQL), HTTP and CLI tests,
# then the end-to-end browser journeys (scripts/e2e.sh; skipped with SHEZHI_SKIP_E2E=1 or
# when arguments select part of the suite).
# PostgreSQL is mandatory. With no SHEZHI_TEST_POSTGRES_URL the machine's own server on
# 127.0.0.1:5432 is used, and started with pg_ctlcluster if it is installed but stopped.
# Extra arguments go to `cargo test` (e.g. scripts/test.sh -p shezhi-store).
set -euo pipefail
cd "$(dirname "$0")/.."

DEFAULT_URL="postgres://postgres@127.0.0.1:5432/postgres"
PG_URL="${SHEZHI_TEST_POSTGRES_URL:-$DEFAULT_URL}"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [ -z "${SHEZHI_TEST_POSTGRES_URL:-}" ] && ! port_open 127.0.0.1 5432; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        echo "test.sh: PostgreSQL is stopped; starting the machine's cluster" >&2
        for version in $(ls /etc/postgresql); do
            for cluster in $(ls "/etc/postgresql/$version"); do
                pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start || true
            done
        done
        for _ in $(seq 1 60); do
            port_open 127.0.0.1 5432 && break
            sleep 0.5
        done
    fi
    if ! port_open 127.0.0.1 5432; then
        cat >&2 <<MSG
test.sh: the tests need PostgreSQL and none answers on 127.0.0.1:5432.
  Install and start one (Debian: apt-get install postgresql; pg_ctlcluster 15 main start),
  or point the tests at a server where you may CREATE DATABASE:
    SHEZHI_TEST_POSTGRES_URL=postgres://user:password@host:5432/postgres scripts/test.sh
MSG
        exit 1
    fi
fi
export SHEZHI_TEST_POSTGRES_URL="$PG_URL"

# Databases left by interrupted earlier runs.
if command -v psql >/dev/null 2>&1; then
    for db in $(psql "$PG_URL" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'shezhi_t_%'" 2>/dev/null || true); do
        psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
    done
fi

cargo test --release --workspace --locked "$@"

# The browser journeys (headless chromium against the real server) when the whole suite runs.
if [ "$#" -eq 0 ] && [ -z "${SHEZHI_SKIP_E2E:-}" ]; then
    scripts/e2e.sh
fi
