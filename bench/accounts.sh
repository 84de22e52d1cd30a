#!/usr/bin/env bash
# Many-accounts benchmark (issue 21): `console-access batch --accounts` over ACCOUNTS member
# accounts × ROWS disable rows, each account throttled at RATE IAM calls/s by the proxy.
#
# moto (one server; its AssumeRole hands out credentials that act in the role's account) sits
# behind bench/proxy.py --per-key: one token bucket per access key id (RATE/s, burst RATE/4 as in
# bench/batch.sh), and every assumed-role session has its own key, so the limit is per account.
# Only IAM calls are throttled; STS (AssumeRole, GetCallerIdentity) passes, counted, with the same
# added LATENCY per call (real STS has its own limits, apart from IAM's).
#
# Each round runs, in this order, with moto reset and the accounts set up again before each run
# (bench/accounts_fixture.py: ROWS users with a console password in each account used, reached by
# assuming OrganizationAccountAccessRole as console-access does), so every run deletes ROWS login
# profiles per account (every row `changed`, one DeleteLoginProfile each):
#   single: the ROWS-row file in one member account   (--accounts M1 --concurrency SHARE)
#   many:   the same file in ACCOUNTS member accounts  (--accounts M1,...,Mn
#           --accounts-concurrency ACCOUNTS --concurrency SHARE*ACCOUNTS)
# console-access gives each account concurrency/accounts-at-once rows in flight, so both runs
# give each account the same SHARE (default 2) rows in flight: the comparison is of the same
# per-account work at the same per-account rate, and what it measures is whether the accounts
# run side by side without slowing each other. (With --concurrency 20 in the single run that one
# account would get 20 rows in flight, and its time would be a different thing.) None of the
# member accounts is the caller's own (moto's default 123456789012), so every account goes through
# AssumeRole, the same path in both runs.
#
# Per run: wall seconds (start to exit, `date +%s.%N`), client CPU (GNU time), rows by status
# from the summary (`--output json`), and per account from the proxy: IAM calls, throttled
# calls, STS calls. The last round's proxy counters and call log (one line per call: seconds,
# action, ok/throttled, access key) are left in bench/out/accounts/{stats,calls}-{single,many}.* Checks: the report has ROWS × accounts rows, all `changed` (zero lost).
# Targets (issue 21): wall(many) / wall(single) within 1.3; zero rows lost; the throttled calls
# of each account no more than the single run's.
#
# Environment: SWIFT, SWIFT_FLAGS, DYNAMIC, BIN (a console-access binary to measure instead of
# building the release one), RUNS (rounds, default 2), ROWS (default 100), ACCOUNTS (default 10),
# RATE (IAM calls/s per access key, default 20), BURST (default RATE/4), LATENCY (seconds added
# to every call, default 0.05), SHARE (rows in flight per account, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
RUNS="${RUNS:-2}"
ROWS="${ROWS:-100}"
ACCOUNTS="${ACCOUNTS:-10}"
RATE="${RATE:-20}"
BURST="${BURST:-0}"
LATENCY="${LATENCY:-0.05}"
SHARE="${SHARE:-2}"
OUT=bench/out/accounts
PY=.venv/bin/python
mkdir -p "$OUT"

. bench/common.sh
require_servers
if [ -n "${BIN:-}" ]; then
    [ -x "$BIN" ] || { echo "bench: BIN=$BIN is not an executable" >&2; exit 2; }
    echo "bench: measuring $BIN"
else
    build_release
fi

trap cleanup EXIT
start_moto

"$PY" -u bench/proxy.py --upstream "$MOTO" --latency "$LATENCY" --rate "$RATE" --burst "$BURST" --per-key \
    --log "$OUT/calls.log" >"$OUT/proxy.port" 2>"$OUT/proxy.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q PORT "$OUT/proxy.port" 2>/dev/null && break; sleep 0.1; done
PROXY="http://127.0.0.1:$(awk '/PORT/ { print $2 }' "$OUT/proxy.port")"
wait_http "$PROXY/__stats"

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_MAX_ATTEMPTS AWS_RETRY_MODE AWS_ROLE_ARN || true

calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
median() { printf "%s\n" "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

members=()
for i in $(seq 1 "$ACCOUNTS"); do members+=("$(printf '2000000%05d' "$i")"); done
all=$(IFS=,; echo "${members[*]}")
input="$OUT/input-$ROWS.csv"
"$PY" bench/accounts_fixture.py write "$ROWS" "$input"

# run_one KIND -> RESULT (wall cpu changed_rows other_rows max_throttled_per_account) and a
# printed block; KIND is single (member 1) or many (every member).
run_one() {
    local kind=$1 accounts concurrency atonce n report="$OUT/report-$1.csv"
    case $kind in
        single) accounts=${members[0]} n=1 atonce=1 ;;
        many) accounts=$all n=$ACCOUNTS atonce=$ACCOUNTS ;;
    esac
    concurrency=$((SHARE * n))
    curl -fsS -X POST -o /dev/null "$MOTO/moto-api/reset"
    # shellcheck disable=SC2086
    "$PY" bench/accounts_fixture.py setup "$ROWS" "$MOTO" ${accounts//,/ }
    curl -fsS -X POST -o /dev/null "$PROXY/__stats/reset"
    rm -f "$report" "$report.run.json"
    local cmd=("$BIN" batch "$input" --report "$report" --accounts "$accounts" --accounts-concurrency "$atonce"
        --concurrency "$concurrency" --max-disable "$((ROWS * n))" --endpoint-url "$PROXY" --output json)
    LAST_CMD="${cmd[*]}"
    LAST_CMD=${LAST_CMD/#$BIN/console-access}
    LAST_CMD=${LAST_CMD//$OUT\//}
    local start end status
    start=$(date +%s.%N)
    set +e
    /usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" "${cmd[@]}" >"$OUT/stdout-$kind.json" 2>"$OUT/stderr-$kind.txt"
    status=$?
    set -e
    end=$(date +%s.%N)
    curl -fsS "$PROXY/__stats" >"$OUT/stats-$kind.json"
    cp "$OUT/calls.log" "$OUT/calls-$kind.log"
    if [ "$status" -gt 1 ]; then
        echo "bench: $kind run exited $status" >&2
        cat "$OUT/stderr-$kind.txt" "$OUT/stdout-$kind.json" >&2
        exit 1
    fi
    local wall cpu
    wall=$(calc "$end - $start")
    cpu=$(tail -1 "$OUT/time.txt" | awk '{ printf "%.2f", $1 + $2 }')
    # Rows by status (summary and report), per-account proxy counts, the zero-lost check.
    local summary
    summary=$("$PY" - "$OUT/stdout-$kind.json" "$OUT/stats-$kind.json" "$report" "$ROWS" "$accounts" "$OUT/calls-$kind.log" <<'EOF'
import collections, csv, json, sys
out, stats, report, rows, accounts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(",")
summary = json.load(open(out))
stats = json.load(open(stats))
per = collections.defaultdict(lambda: collections.Counter())
# When each key's throttled calls came, from its first IAM call: in the first second (the
# bucket's burst spent while the limiter learns the rate) or later (the limiter probing upward).
first = {}
for line in open(sys.argv[6]):
    t, action, result, key = line.split()
    if action in ("AssumeRole", "GetCallerIdentity"):
        continue
    first.setdefault(key, float(t))
    if result == "throttled":
        account = stats["keys"].get(key, {}).get("account", "?" + key)
        per[account]["early" if float(t) - first[key] < 1.0 else "late"] += 1
for key, k in stats["keys"].items():
    account = k.get("account", "?" + key)
    for action, c in k["actions"].items():
        kind = "sts" if action in ("AssumeRole", "GetCallerIdentity") else "iam"
        per[account][kind] += c["calls"]
        per[account][kind + "_throttled"] += c["throttled"]
    per[account]["keys"] += 1
report_rows = list(csv.DictReader(open(report)))
by_status = collections.Counter(r["status"] for r in report_rows)
by_account = collections.Counter(r["account"] for r in report_rows if r["status"] == "changed")
counts = summary.get("counts", {})
expected = rows * len(accounts)
lost = expected - by_status.get("changed", 0)
problems = []
if len(report_rows) != expected:
    problems.append(f"report has {len(report_rows)} rows, expected {expected}")
if counts.get("changed", 0) != expected or sum(counts.values()) != expected:
    problems.append(f"summary counts {dict(counts)}, expected changed: {expected}")
for a in accounts:
    if by_account[a] != rows:
        problems.append(f"account {a}: {by_account[a]} rows changed, expected {rows}")
print("summary counts: " + json.dumps(counts, sort_keys=True) + f"; report rows {len(report_rows)} "
      + json.dumps(dict(by_status), sort_keys=True) + f"; api_calls {summary.get('api_calls')}"
      + f", throttled_calls {summary.get('throttled_calls')} (as the tool counts them)")
print(f"{'account':<14} {'iam calls':>9} {'throttled':>9} {'(1st s':>6} {'later)':>6} {'sts calls':>9} {'keys':>4} {'changed':>7}")
for a in sorted(per):
    p = per[a]
    print(f"{a:<14} {p['iam']:>9} {p['iam_throttled']:>9} {p['early']:>6} {p['late']:>6} {p['sts']:>9} {p['keys']:>4} "
          f"{by_account.get(a, ''):>7}")
member = [per[a]["iam_throttled"] for a in accounts]
print(f"RESULT {by_status.get('changed', 0)} {len(report_rows) - by_status.get('changed', 0)} {max(member)} "
      f"{sum(member) / len(member):.1f} {lost}")
for p in problems:
    print("PROBLEM " + p)
EOF
)
    echo "$summary" | grep -v '^RESULT' | grep -v '^PROBLEM' | sed 's/^/  /'
    local result
    result=$(echo "$summary" | awk '/^RESULT/ { print $2, $3, $4, $5, $6 }')
    # shellcheck disable=SC2206
    RESULT=("$wall" "$cpu" $result)
    if echo "$summary" | grep -q '^PROBLEM'; then
        echo "$summary" | grep '^PROBLEM' | sed 's/^PROBLEM/bench: rows lost or not changed:/' >&2
        LOST=1
    fi
}

burst_shown=$BURST
[ "$(calc "($BURST > 0)" 0)" = 1 ] || burst_shown="$(calc "(($RATE / 4 < 1) ? 1 : $RATE / 4)" 1)"
echo
echo "== $ACCOUNTS accounts x $ROWS disable rows vs 1 account x $ROWS rows: each account (access key)" \
    "allowed $RATE IAM calls/s (burst $burst_shown), +${LATENCY}s per call, $SHARE rows in flight per account, $RUNS round(s)"
LOST=0
declare -A walls=() maxthr=() meanthr=()
for round in $(seq "$RUNS"); do
    for kind in single many; do
        echo
        echo "-- round $round, $kind"
        run_one "$kind"
        echo "  \$ $LAST_CMD"
        printf "  wall %ss, cpu %ss, rows changed %s, other %s, throttled per member account: max %s mean %s\n" \
            "${RESULT[0]}" "${RESULT[1]}" "${RESULT[2]}" "${RESULT[3]}" "${RESULT[4]}" "${RESULT[5]}"
        walls[$kind]+="${RESULT[0]} "
        maxthr[$kind]+="${RESULT[4]} "
        meanthr[$kind]+="${RESULT[5]} "
    done
    # shellcheck disable=SC2206
    w_single=(${walls[single]}) w_many=(${walls[many]})
    echo "  round $round: wall many / single = $(calc "${w_many[-1]} / ${w_single[-1]}" 2)x"
done

echo
# shellcheck disable=SC2086
single_wall=$(median ${walls[single]}) many_wall=$(median ${walls[many]})
ratio=$(calc "$many_wall / $single_wall" 2)
# shellcheck disable=SC2086
echo "medians: wall single $single_wall s, many $many_wall s, ratio ${ratio}x (target <= 1.3x);" \
    "throttled per account: single $(median ${maxthr[single]}), many max $(median ${maxthr[many]})" \
    "mean $(median ${meanthr[many]}) (target: many max <= single)"
if [ "$LOST" = 0 ]; then
    echo "rows: every run reported and changed every row ($ROWS x accounts): zero lost"
else
    echo "rows: some run lost or failed rows (see above)"
    exit 1
fi
