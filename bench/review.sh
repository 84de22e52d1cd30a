#!/usr/bin/env bash
# Review benchmark: `console-access review` from the credential report, against today's
# per-user path (`--source per-user`) and a boto3 script doing the per-user listing
# (bench/review_boto3.py), all through the same latency proxy (bench/proxy.py, +LATENCY s per
# call) in front of one moto server, in one run. The account is seeded with boto3 straight into
# moto (bench/review_fixture.py), first SMALL users (default 1000), then USERS (default 5000):
# the report review's peak memory at both sizes shows whether it grows with the users. LARGE
# (e.g. 20000; unset by default) seeds up to that many users after the other runs and measures
# the report review once more at that size (the report path only).
#
# Per run: wall seconds, AWS calls seen by the proxy, client CPU seconds and peak RSS (GNU time).
# Environment: SWIFT, SWIFT_FLAGS, DYNAMIC, USERS, SMALL, LARGE, LATENCY, CONCURRENCY (default 8),
# SKIP_PER_USER=1 to measure the report review only; BIN=path to measure a given binary.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
USERS="${USERS:-5000}"
SMALL="${SMALL:-1000}"
LARGE="${LARGE:-}"
LATENCY="${LATENCY:-0.05}"
CONCURRENCY="${CONCURRENCY:-8}"
OUT=bench/out/review
PY=.venv/bin/python
mkdir -p "$OUT"
if [ -n "$LARGE" ] && [ "$LARGE" -le "$USERS" ]; then
    echo "bench: LARGE ($LARGE) must be more than USERS ($USERS)" >&2
    exit 2
fi

. bench/common.sh
require_servers
if [ -n "${BIN:-}" ]; then
    echo "bench: using BIN=$BIN (not building)"
else
    build_release
fi

trap cleanup EXIT
start_moto

"$PY" -u bench/proxy.py --upstream "$MOTO" --latency "$LATENCY" >"$OUT/proxy.port" 2>"$OUT/proxy.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q PORT "$OUT/proxy.port" 2>/dev/null && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(awk '/PORT/ { print $2 }' "$OUT/proxy.port")"
wait_http "$PROXY/__stats"

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_MAX_ATTEMPTS AWS_RETRY_MODE || true
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

# run_one NAME USERS CMD... -> one result line
run_one() {
    local name=$1 users=$2
    shift 2
    curl -fsS -X POST -o /dev/null "$PROXY/__stats/reset"
    local start end status
    start=$(date +%s.%N)
    set +e
    /usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "$@" >"$OUT/stdout.txt" 2>"$OUT/stderr.txt"
    status=$?
    set -e
    end=$(date +%s.%N)
    if [ "$status" -ne 0 ]; then
        echo "bench: $name exited $status" >&2
        cat "$OUT/stderr.txt" >&2
        exit 1
    fi
    local calls cpu rss
    calls=$(curl -fsS "$PROXY/__stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["calls"])')
    cpu=$(tail -1 "$OUT/time.txt" | awk '{ printf "%.2f", $1 + $2 }')
    rss=$(tail -1 "$OUT/time.txt" | awk '{ printf "%.1f", $3 / 1024 }')
    printf "%-24s %7s %9s %7s %7s %8s\n" "$name" "$users" "$(calc "$end - $start" 2)" "$calls" "$cpu" "$rss"
}

header() { printf "%-24s %7s %9s %7s %7s %8s\n" run users seconds calls cpu_s rss_mb; }

echo "bench: seeding $SMALL users (boto3, straight to moto)"
"$PY" bench/review_fixture.py "$MOTO" "$SMALL"
echo
echo "== review: +${LATENCY}s per call, concurrency $CONCURRENCY"
header
rm -rf "$OUT/review-small.csv"
run_one "report" "$SMALL" "$BIN" review --endpoint-url "$PROXY" --inactive-days 90 --output "$OUT/review-small.csv"
echo "bench: seeding up to $USERS users"
"$PY" bench/review_fixture.py "$MOTO" "$USERS" "$SMALL"
run_one "report" "$USERS" "$BIN" review --endpoint-url "$PROXY" --inactive-days 90 --output "$OUT/review.csv"
run_one "report (again)" "$USERS" "$BIN" review --endpoint-url "$PROXY" --inactive-days 90 --output "$OUT/review.csv"
if [ "${SKIP_PER_USER:-0}" != 1 ]; then
    run_one "per-user (swift)" "$USERS" "$BIN" review --source per-user --concurrency "$CONCURRENCY" \
        --endpoint-url "$PROXY" --inactive-days 90 --output "$OUT/review-per-user.csv"
    run_one "per-user (boto3)" "$USERS" "$PY" bench/review_boto3.py "$OUT/review-boto3.csv" \
        --endpoint-url "$PROXY" --threads "$CONCURRENCY"
fi
if [ -n "$LARGE" ]; then
    echo "bench: seeding up to $LARGE users"
    "$PY" bench/review_fixture.py "$MOTO" "$LARGE" "$USERS"
    run_one "report" "$LARGE" "$BIN" review --endpoint-url "$PROXY" --inactive-days 90 --output "$OUT/review-large.csv"
fi
