#!/usr/bin/env bash
# Drives shezhi's Open311 GeoReport v2 interface with a real client: `georeport` from PyPI
# (in a venv kept under the cargo target directory), against the built release binary serving
# a fresh SQLite database, under the API token of a resident account made for the run.
# Build first: cargo build --release -p shezhi
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/shezhi"
venv="$target/open311-venv"
[ -x "$bin" ] || { echo "open311-client.sh: $bin is missing; cargo build --release -p shezhi" >&2; exit 1; }

if ! "$venv/bin/python" -c 'import georeport' 2>/dev/null; then
    echo "open311-client.sh: installing georeport==0.3.1 into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check georeport==0.3.1
fi

work="$(mktemp -d)"
server=""
cleanup() {
    status=$?
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [ "$status" -ne 0 ] && [ -f "$work/server.log" ]; then
        echo "-- server log (last lines)" >&2
        tail -n 30 "$work/server.log" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT

# Only this run's settings: nothing inherited from the caller's environment.
unset SHEZHI_CONFIG SHEZHI_DATA_KEY SHEZHI_LISTEN SHEZHI_LOG_FORMAT
export SHEZHI_DATABASE_URL="sqlite://$work/open311.db"
export RUST_LOG=warn
"$bin" keygen > "$work/data.key"
export SHEZHI_DATA_KEY_FILE="$work/data.key"
"$bin" migrate
SHEZHI_NEW_PASSWORD="open311-client-$$-pass" \
    "$bin" admin create-user --username open311 --bind resident > /dev/null
token="$("$bin" admin create-token --username open311 --name open311-client --days 1 2> /dev/null)"

# Port 0: the server picks a free port and logs it with its `listening` line.
RUST_LOG=info,sqlx=warn "$bin" --listen 127.0.0.1:0 --log-format json serve 2> "$work/server.log" &
server=$!
addr=""
for _ in $(seq 1 600); do
    kill -0 "$server" 2>/dev/null || { echo "open311-client.sh: the server stopped" >&2; exit 1; }
    addr="$(sed -n 's/.*"message":"listening".*"addr":"\([0-9.:]*\)".*/\1/p' "$work/server.log" | head -n 1)"
    if [ -n "$addr" ] && curl -fsS "http://$addr/readyz" > /dev/null 2>&1; then
        break
    fi
    addr=""
    sleep 0.2
done
[ -n "$addr" ] || { echo "open311-client.sh: the server did not become ready" >&2; exit 1; }
echo "open311-client.sh: server ready on $addr"

"$venv/bin/python" scripts/open311_client.py "http://$addr/open311/v2" "$token"
