# Shared by the benchmark scripts (sourced): builds console-access in release mode into BIN.
# Needs SWIFT and OUT set.

# build_release -> BIN: the release binary (the build log is in $OUT/build.log).
build_release() {
    echo "bench: building release (log: $OUT/build.log)"
    if ! "$SWIFT" build -c release --product console-access >"$OUT/build.log" 2>&1; then
        cat "$OUT/build.log" >&2
        exit 1
    fi
    BIN="$("$SWIFT" build -c release --show-bin-path)/console-access"
}
