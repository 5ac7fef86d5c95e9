#!/usr/bin/env bash
# Runs the end-to-end browser journeys (e2e/journeys.mjs) against `shezhi demo` on a fresh
# SQLite database, in Debian's headless chromium driven by playwright-core.
#
#   scripts/e2e.sh                                  # builds the release binary first
#   SHEZHI_BIN=path/to/shezhi scripts/e2e.sh        # uses that binary, builds nothing
#   E2E_BASE_URL=http://127.0.0.1:8080 scripts/e2e.sh   # uses a running server
#
# Also: E2E_ONLY=name1,name2 (journeys whose name contains one of these), E2E_DATA_DIR=dir
# (keep and reuse the demo database there: later runs start in seconds), E2E_SCALE, E2E_SEED,
# CHROMIUM_PATH. Screenshots, logs and summary.json go to test-output/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

say() { echo "e2e.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- chromium and CJK fonts (Debian packages) -------------------------------------------
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

need=()
if [ -n "${CHROMIUM_PATH:-}" ]; then
    [ -x "$CHROMIUM_PATH" ] || die "CHROMIUM_PATH=$CHROMIUM_PATH is not an executable"
elif ! command -v chromium >/dev/null 2>&1 && ! installed chromium; then
    need+=(chromium)
fi
if command -v dpkg-query >/dev/null 2>&1 && ! installed fonts-noto-cjk; then
    need+=(fonts-noto-cjk)
fi
if [ "${#need[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${need[*]} and no apt-get: install chromium and a CJK font, or set CHROMIUM_PATH"
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "missing ${need[*]}: run as root or install sudo"
        SUDO=(sudo)
    fi
    # Refresh the package lists only when apt does not know the packages yet.
    if ! apt-cache show "${need[@]}" >/dev/null 2>&1; then
        say "apt-get update"
        "${SUDO[@]}" apt-get update
    fi
    say "installing ${need[*]}"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${need[@]}"
fi

# --- node and playwright-core -------------------------------------------------------------
command -v node >/dev/null 2>&1 || die "node (>= 20) is needed"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' ||
    die "node >= 20 is needed (found $(node --version))"

lock_hash="$(sha256sum e2e/package-lock.json | cut -d' ' -f1)"
stamp=e2e/node_modules/.shezhi-lock.sha256
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_hash" ] && [ -d e2e/node_modules/playwright-core ]; then
    say "e2e/node_modules matches package-lock.json"
else
    say "npm ci in e2e/"
    (cd e2e && npm ci --no-audit --no-fund)
    echo "$lock_hash" > "$stamp"
fi

# --- the server binary ----------------------------------------------------------------------
if [ -z "${E2E_BASE_URL:-}" ]; then
    if [ -z "${SHEZHI_BIN:-}" ]; then
        say "cargo build --release -p shezhi"
        cargo build --release -p shezhi --locked
        target="${CARGO_TARGET_DIR:-target}"
        case "$target" in /*) ;; *) target="$ROOT/$target" ;; esac
        SHEZHI_BIN="$target/release/shezhi"
    fi
    [ -x "$SHEZHI_BIN" ] || die "no executable shezhi binary at $SHEZHI_BIN"
    SHEZHI_BIN="$(cd "$(dirname "$SHEZHI_BIN")" && pwd)/$(basename "$SHEZHI_BIN")"
    export SHEZHI_BIN
fi

exec node e2e/run.mjs
