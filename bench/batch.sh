#!/usr/bin/env bash
# Batch benchmark: `console-access batch` against the same job written with boto3
# (bench/batch_boto3.py), both at 8 in parallel, through the same proxy (bench/proxy.py) in
# front of the same moto server, alternating, with IAM reset and set up again before every run.
#
#   1. latency: every call takes LATENCY seconds more (default 0.05), ROWS rows (default 1000).
#      Wall time, rows/s, client CPU seconds (user+sys, GNU time) per 1,000 rows.
#   2. throttled: the proxy allows RATE calls/s (token bucket, default 20/s, burst RATE/4) and
#      answers `Throttling` beyond it; THROTTLED_ROWS rows (default 300). Completion time against
#      the ideal (calls that got through / RATE), throttled calls, failed rows; boto3 in its
#      `adaptive` retry mode.
#
# Both measure the release binary as `make install` ships it (Swift runtime linked statically;
# DYNAMIC=1 for a dynamically linked one).
#
# Environment: SWIFT, SWIFT_FLAGS, DYNAMIC, RUNS (runs of each tool per scenario, alternating;
# default 2), ROWS, THROTTLED_ROWS, LATENCY, RATE, SCENARIOS (default "latency throttled").
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
RUNS="${RUNS:-2}"
ROWS="${ROWS:-1000}"
THROTTLED_ROWS="${THROTTLED_ROWS:-300}"
LATENCY="${LATENCY:-0.05}"
RATE="${RATE:-20}"
SCENARIOS="${SCENARIOS:-latency throttled}"
OUT=bench/out/batch
PY=.venv/bin/python
mkdir -p "$OUT"

. bench/common.sh
require_servers
build_release

trap cleanup EXIT
start_moto

# start_proxy ARGS... -> PROXY (url)
start_proxy() {
    [ -z "${proxy_pid:-}" ] || { kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; }
    "$PY" -u bench/proxy.py --upstream "$MOTO" "$@" >"$OUT/proxy.port" 2>"$OUT/proxy.log" &
    proxy_pid=$!
    pids+=("$proxy_pid")
    for _ in $(seq 1 100); do grep -q PORT "$OUT/proxy.port" 2>/dev/null && break; sleep 0.1; done
    PROXY="http://127.0.0.1:$(awk '/PORT/ { print $2 }' "$OUT/proxy.port")"
    wait_http "$PROXY/__stats"
}

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_MAX_ATTEMPTS AWS_RETRY_MODE || true

calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }

# run_one TOOL ROWS -> prints a result line; TOOL is swift or boto3 (boto3-adaptive when throttled)
run_one() {
    local tool=$1 rows=$2 input="$OUT/input-$2.csv" report="$OUT/report-$1.csv"
    curl -fsS -X POST -o /dev/null "$MOTO/moto-api/reset"
    "$PY" bench/batch_fixture.py setup "$rows" "$MOTO"
    curl -fsS -X POST -o /dev/null "$PROXY/__stats/reset"
    rm -f "$report" "$report.run.json"
    local start end status cmd
    case $tool in
        swift) cmd=("$BIN" batch "$input" --report "$report" --concurrency 8 --max-disable "$rows" --endpoint-url "$PROXY" --output json) ;;
        boto3) cmd=("$PY" bench/batch_boto3.py "$input" "$report" --endpoint-url "$PROXY" --threads 8) ;;
        boto3-adaptive) cmd=("$PY" bench/batch_boto3.py "$input" "$report" --endpoint-url "$PROXY" --threads 8 --retry-mode adaptive) ;;
    esac
    start=$(date +%s.%N)
    set +e
    /usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "${cmd[@]}" >"$OUT/stdout.txt" 2>"$OUT/stderr.txt"
    status=$?
    set -e
    end=$(date +%s.%N)
    if [ "$status" -gt 1 ]; then
        echo "bench: $tool exited $status" >&2
        cat "$OUT/stderr.txt" "$OUT/stdout.txt" >&2
        exit 1
    fi
    local wall cpu stats calls throttled forwarded failed
    wall=$(calc "$end - $start")
    cpu=$(tail -1 "$OUT/time.txt" | awk '{ printf "%.2f", $1 + $2 }')
    stats=$(curl -fsS "$PROXY/__stats")
    calls=$(echo "$stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["calls"])')
    throttled=$(echo "$stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["throttled"])')
    forwarded=$(echo "$stats" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["forwarded"])')
    failed=$("$PY" -c 'import csv,sys; print(sum(1 for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "failed"))' "$report")
    local lines
    lines=$("$PY" -c 'import csv,sys; print(sum(1 for _ in csv.DictReader(open(sys.argv[1]))))' "$report")
    if [ "$lines" != "$rows" ]; then
        echo "bench: $tool reported $lines rows of $rows" >&2
        exit 1
    fi
    RESULT=("$tool" "$wall" "$cpu" "$calls" "$forwarded" "$throttled" "$failed")
}

header() { printf "%-16s %8s %9s %10s %7s %9s %7s %s\n" tool seconds rows/s cpu/1krows calls throttled failed "$1"; }
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for scenario in $SCENARIOS; do
    case $scenario in
        latency)
            rows=$ROWS
            "$PY" bench/batch_fixture.py write "$rows" "$OUT/input-$rows.csv"
            start_proxy --latency "$LATENCY"
            echo
            echo "== latency: $rows rows, +${LATENCY}s per call, concurrency 8, $RUNS runs each (alternating)"
            header ""
            declare -A cpus=() walls=()
            for _ in $(seq "$RUNS"); do
                for tool in swift boto3; do
                    run_one "$tool" "$rows"
                    printf "%-16s %8s %9s %10s %7s %9s %7s\n" "${RESULT[0]}" "${RESULT[1]}" \
                        "$(calc "$rows / ${RESULT[1]}" 1)" "$(calc "${RESULT[2]} * 1000 / $rows" 2)" \
                        "${RESULT[3]}" "${RESULT[5]}" "${RESULT[6]}"
                    cpus[$tool]+="${RESULT[2]} "
                    walls[$tool]+="${RESULT[1]} "
                done
            done
            # shellcheck disable=SC2086
            swift_cpu=$(median ${cpus[swift]}) boto3_cpu=$(median ${cpus[boto3]})
            # shellcheck disable=SC2086
            echo "medians: wall $(median ${walls[swift]}) s vs $(median ${walls[boto3]}) s;" \
                "cpu/1krows $(calc "$swift_cpu * 1000 / $rows" 2) vs $(calc "$boto3_cpu * 1000 / $rows" 2)" \
                "(swift/boto3 $(calc "$swift_cpu / $boto3_cpu" 3)x)"
            ;;
        throttled)
            rows=$THROTTLED_ROWS
            "$PY" bench/batch_fixture.py write "$rows" "$OUT/input-$rows.csv"
            start_proxy --latency "$LATENCY" --rate "$RATE"
            echo
            echo "== throttled: $rows rows, the proxy allows $RATE calls/s (+${LATENCY}s per call), concurrency 8, $RUNS runs each"
            header "ideal(s) ratio"
            declare -A ratios=() throttles=()
            for _ in $(seq "$RUNS"); do
                for tool in swift boto3-adaptive; do
                    run_one "$tool" "$rows"
                    ideal=$(calc "${RESULT[4]} / $RATE")
                    printf "%-16s %8s %9s %10s %7s %9s %7s %s %s\n" "${RESULT[0]}" "${RESULT[1]}" \
                        "$(calc "$rows / ${RESULT[1]}" 1)" "$(calc "${RESULT[2]} * 1000 / $rows" 2)" \
                        "${RESULT[3]}" "${RESULT[5]}" "${RESULT[6]}" "$ideal" "$(calc "${RESULT[1]} / $ideal" 2)x"
                    ratios[$tool]+="$(calc "${RESULT[1]} / $ideal" 4) "
                    throttles[$tool]+="${RESULT[5]} "
                done
            done
            # shellcheck disable=SC2086
            echo "medians: time/ideal $(median ${ratios[swift]})x vs $(median ${ratios[boto3-adaptive]})x;" \
                "throttled calls $(median ${throttles[swift]}) vs $(median ${throttles[boto3-adaptive]})"
            ;;
        *) echo "bench: unknown scenario $scenario" >&2; exit 2 ;;
    esac
done
