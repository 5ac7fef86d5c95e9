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

me=open311-client.sh
. scripts/lib/fresh-server.sh
SHEZHI_NEW_PASSWORD="open311-client-$$-pass" \
    "$bin" admin create-user --username open311 --bind resident > /dev/null
token="$("$bin" admin create-token --username open311 --name open311-client --days 1 2> /dev/null)"

start_server

"$venv/bin/python" scripts/open311_client.py "http://$addr/open311/v2" "$token"
