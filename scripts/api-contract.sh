#!/usr/bin/env bash
# Checks the OpenAPI document as a contract: schemathesis (from PyPI, in a venv kept under the
# cargo target directory) generates requests from the document the server publishes and sends
# them to the built release binary serving a fresh SQLite database with a small seeded world
# (the built-in territory, one community's register, a case with a photo, a directive with an
# attachment, a campaign), under the API token of an account holding every staff role over
# the city (and community staff of the seeded community, which answers directives as a
# recipient). Any answer the document does not allow fails the run: a 5xx, a status or
# content type the operation does not list, a body that does not match its schema, or a
# request valid by the document that the server refuses (positive data acceptance).
#
#   scripts/api-contract.sh                       # build first: cargo build --release -p shezhi
#   API_CONTRACT_EXAMPLES=50 scripts/api-contract.sh   # more generated requests per operation
#
# JUnit reports go to test-output/api-contract/; a failure is printed with a curl command
# that reproduces it.
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
target="${CARGO_TARGET_DIR:-target}"
bin="$target/release/shezhi"
venv="$target/api-contract-venv"
examples="${API_CONTRACT_EXAMPLES:-20}"
out="test-output/api-contract"
[ -x "$bin" ] || { echo "api-contract.sh: $bin is missing; cargo build --release -p shezhi" >&2; exit 1; }

if ! "$venv/bin/st" --version 2>/dev/null | grep -q " $version\$"; then
    echo "api-contract.sh: installing schemathesis==$version into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

me=api-contract.sh
. scripts/lib/fresh-server.sh
# One community's houses and people (a few seconds), so that the register's ids and region
# codes exist.
community=510104018001
"$bin" generate --scale community --region "$community" > /dev/null
SHEZHI_NEW_PASSWORD="api-contract-$$-pass" "$bin" admin create-user --username contract \
    --bind admin --bind mediator --bind grid_worker=510100000000 \
    --bind community_staff=510100000000 --bind street_staff=510100000000 \
    --bind community_staff="$community" \
    --bind command=510100000000 > /dev/null
token="$("$bin" admin create-token --username contract --name api-contract --days 1 2> /dev/null)"

start_server
base="http://$addr"

# The seeded world: made through the API itself, each answer checked.
post() {
    curl -fsS -X POST -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
        --data "$2" "$base$1" || { echo "api-contract.sh: seeding POST $1 failed" >&2; exit 1; }
    echo
}
png='iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
deadline=$(( ($(date +%s) + 3 * 86400) * 1000 ))
post /api/v1/cases '{"category":"order.vendor","description":"小区门口占道摆摊，堵住消防通道","lon":104.0835,"lat":30.6465,"address":"锦江区某路 8 号","photos":[{"content_type":"image/png","data_base64":"'"$png"'"}]}' > /dev/null
post /api/v1/directives '{"region":"510104000000","title":"燃气安全排查","content":"三日内完成并反馈","levels":["street","community"],"deadline_ms":'"$deadline"',"attachments":[{"name":"通知.txt","content_type":"text/plain","data_base64":"5pys5ZGo5a6M5oiQ"}]}' > /dev/null
post /api/v1/campaigns '{"region":"'"$community"'","title":"燃气排查","rounds":2,"form":{"questions":[]}}' > /dev/null

mkdir -p "$out"
# Checks: all of schemathesis's, with its `positive_data_acceptance` replaced by the same check
# less the refusals that no schema can state (scripts/api_contract_hooks.py names each), and
# without `negative_data_rejection`: the document may be stricter than the server (which trims
# white space, reads `null` as absent and ignores unknown fields), so that what follows the
# document is served; the contract is that direction, not that everything else is refused.
run() {
    local name="$1"
    shift
    echo "api-contract.sh: schemathesis $name"
    API_CONTRACT_TOKEN="$token" SCHEMATHESIS_HOOKS=scripts/api_contract_hooks.py \
        "$venv/bin/st" --config-file scripts/api-contract.toml \
        run "$base/api/openapi.json" \
        --checks all --exclude-checks positive_data_acceptance,negative_data_rejection \
        --max-examples "$examples" \
        --seed 2026 \
        --rate-limit 1000/m \
        --workers 1 \
        --no-color \
        --report junit --report-dir "$out/$name" \
        "$@"
}
# Revoking a token and disabling a user can take away the run's own credential (its token is
# a small id, which the generator tries first): those two run last, on their own.
last=(--include-name "DELETE /api/v1/tokens/{id}" --include-name "POST /api/v1/users/{id}/disable")
status=0
run main --exclude-name "DELETE /api/v1/tokens/{id}" --exclude-name "POST /api/v1/users/{id}/disable" || status=1
run last "${last[@]}" || status=1
if [ "$status" -ne 0 ]; then
    echo "api-contract.sh: the server does not keep to its OpenAPI document (reports in $out/)" >&2
fi
exit "$status"
