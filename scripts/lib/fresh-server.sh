# Sourced by the scripts that drive the built binary from outside (open311-client.sh,
# api-contract.sh): a work directory removed on exit (with the server's last log lines shown
# when the script fails), a fresh SQLite database with its own data key and only this run's
# settings, and `start_server`, which serves it on a free port and sets `addr` once ready.
# The caller sets `bin` (the binary) and `me` (its name, for messages) first.

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
unset SHEZHI_CONFIG SHEZHI_DATA_KEY SHEZHI_LISTEN SHEZHI_LOG_FORMAT SHEZHI_METRICS_TOKEN \
    SHEZHI_TRUSTED_PROXIES SHEZHI_PUBLIC_URL SHEZHI_SECURE_COOKIES
export SHEZHI_DATABASE_URL="sqlite://$work/run.db"
export RUST_LOG=warn
"$bin" keygen > "$work/data.key"
export SHEZHI_DATA_KEY_FILE="$work/data.key"
"$bin" migrate

# Port 0: the server picks a free port and logs it with its `listening` line.
start_server() {
    RUST_LOG=info,sqlx=warn "$bin" --listen 127.0.0.1:0 --log-format json serve 2> "$work/server.log" &
    server=$!
    addr=""
    for _ in $(seq 1 600); do
        kill -0 "$server" 2>/dev/null || { echo "$me: the server stopped" >&2; exit 1; }
        addr="$(sed -n 's/.*"message":"listening".*"addr":"\([0-9.:]*\)".*/\1/p' "$work/server.log" | head -n 1)"
        if [ -n "$addr" ] && curl -fsS "http://$addr/readyz" > /dev/null 2>&1; then
            echo "$me: server ready on $addr"
            return 0
        fi
        addr=""
        sleep 0.2
    done
    echo "$me: the server did not become ready" >&2
    exit 1
}
