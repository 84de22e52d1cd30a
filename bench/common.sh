# Shared by the benchmark scripts (sourced): builds console-access in release mode into BIN.
# Needs SWIFT and OUT set; SWIFT_FLAGS is passed on to `swift build`.

# build_release -> BIN: the release binary as `make release` and `make install` build it (Swift
# runtime linked statically; the build log is in $OUT/build.log). DYNAMIC=1 links it
# dynamically instead (for comparison; a switch rebuilds the release modules).
build_release() {
    local flags=(-c release)
    [ "${DYNAMIC:-0}" = 1 ] || flags+=(--static-swift-stdlib)
    # shellcheck disable=SC2206
    flags+=(${SWIFT_FLAGS:-})
    echo "bench: building release, ${flags[*]} (log: $OUT/build.log)"
    if ! "$SWIFT" build "${flags[@]}" --product console-access >"$OUT/build.log" 2>&1; then
        cat "$OUT/build.log" >&2
        exit 1
    fi
    BIN="$("$SWIFT" build "${flags[@]}" --show-bin-path)/console-access"
}
