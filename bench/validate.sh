#!/usr/bin/env bash
# Parse-and-validate benchmark: `console-access validate` against the same work done with
# Python's csv module, on generated files of 100k and 1M rows. Prints rows/s and peak RSS.
#
# usage: bench/validate.sh [ROWS...]        (default: 100000 1000000)
# Environment: SWIFT (default swift), PYTHON (default python3), RUNS (best of, default 3).
set -euo pipefail

cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
PYTHON="${PYTHON:-python3}"
RUNS="${RUNS:-3}"
OUT=bench/out
mkdir -p "$OUT"

if [ ! -x /usr/bin/time ]; then
    echo "bench: GNU time is needed (/usr/bin/time); run 'make setup-time'" >&2
    exit 2
fi

. bench/common.sh
build_release

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)

calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }

# measure CMD... -> sets SECONDS_BEST, CPU_BEST (user+sys of that run) and RSS_KB (its peak RSS):
# the run with the best wall time of RUNS.
measure() {
    local best="" rss="" cpu=""
    for _ in $(seq "$RUNS"); do
        local start end elapsed status
        start=$(date +%s.%N)
        set +e
        /usr/bin/time -f "%M %U %S" -o "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/stderr.txt"
        status=$?
        set -e
        end=$(date +%s.%N)
        if [ "$status" -gt 1 ]; then
            echo "bench: $* failed with status $status:" >&2
            cat "$OUT/stderr.txt" >&2
            exit 1
        fi
        elapsed=$(calc "$end - $start")
        if [ -z "$best" ] || awk "BEGIN { exit !($elapsed < $best) }"; then
            best=$elapsed
            rss=$(tail -1 "$OUT/time.txt" | cut -d' ' -f1)
            cpu=$(tail -1 "$OUT/time.txt" | awk '{ printf "%.2f", $2 + $3 }')
        fi
    done
    SECONDS_BEST=$best
    CPU_BEST=$cpu
    RSS_KB=$rss
}

echo "bench: best wall time of $RUNS runs each; cpu = user+sys seconds of that run"
printf '%-10s %-26s %10s %8s %14s %12s\n' rows tool seconds cpu rows/s "peak RSS"
for rows in "${sizes[@]}"; do
    file="$OUT/users-$rows.csv"
    [ -f "$file" ] || "$PYTHON" bench/gen_users.py "$rows" "$file"
    measure "$BIN" validate "$file"
    swift_s=$SECONDS_BEST swift_cpu=$CPU_BEST swift_rss=$RSS_KB
    measure "$PYTHON" bench/validate_py.py "$file"
    py_s=$SECONDS_BEST py_cpu=$CPU_BEST py_rss=$RSS_KB
    printf '%-10s %-26s %10.3f %8s %14.0f %9.1f MB\n' "$rows" "console-access validate" "$swift_s" "$swift_cpu" \
        "$(calc "$rows / $swift_s")" "$(calc "$swift_rss / 1024")"
    printf '%-10s %-26s %10.3f %8s %14.0f %9.1f MB\n' "$rows" "python3 csv module" "$py_s" "$py_cpu" \
        "$(calc "$rows / $py_s")" "$(calc "$py_rss / 1024")"
    printf '%-10s %-26s %9.1fx\n' "$rows" "speed-up" "$(calc "$py_s / $swift_s")"
done
