#!/usr/bin/env bash
# Runs every libFuzzer target (or those named) for FUZZ_SECONDS each, from the seed corpus in
# Fuzz/corpus/<name>, with AddressSanitizer. Builds into .build-fuzz (its own scratch folder:
# sanitizer builds share nothing with the normal one).
#
#   scripts/fuzz.sh [xml|config|csv|http|report ...]      FUZZ_SECONDS=600 scripts/fuzz.sh xml
#
# A crash stops that target; its input is kept under .build-fuzz/artifacts/<name>/ and the
# script exits 1. Turn each into a regression test: copy it into Fuzz/corpus/<name>/ (the unit
# tests replay every corpus file) and fix the code.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
SWIFT="${SWIFT:-swift}"
seconds="${FUZZ_SECONDS:-60}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(xml config csv http report)
scratch=.build-fuzz
# lld: gold crashes (an internal error) on the sanitizer builds' debug info.
flags=(-c release --scratch-path "$scratch" -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
for name in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$name" ] || { echo "fuzz: unknown target '$name'" >&2; exit 2; }
    echo "fuzz: building fuzz-$name" >&2
    "$SWIFT" build "${flags[@]}" --product "fuzz-$name" >&2
done
bin="$("$SWIFT" build "${flags[@]}" --show-bin-path)"
status=0
for name in "${targets[@]}"; do
    work="$scratch/corpus/$name"
    artifacts="$scratch/artifacts/$name"
    mkdir -p "$work" "$artifacts"
    cp -n "Fuzz/corpus/$name"/* "$work"/ 2>/dev/null || true
    log="$scratch/fuzz-$name.log"
    echo "fuzz: fuzz-$name for ${seconds}s (log $log)" >&2
    set +e
    "$bin/fuzz-$name" "$work" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
    rc=$?
    set -e
    execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    rate="$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')"
    corpus="$(find "$work" -type f | wc -l)"
    if [ "$rc" = 0 ]; then
        echo "fuzz-$name: ${seconds}s, $execs executions ($rate/s), coverage $cov, corpus $corpus, no crash"
    else
        echo "fuzz-$name: FAILED (exit $rc) after $execs executions; input kept in $artifacts/"
        grep -m5 -E 'ERROR|SUMMARY|Test unit written' "$log" || true
        status=1
    fi
done
exit "$status"
