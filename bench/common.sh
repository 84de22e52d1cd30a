# Shared by the benchmark scripts (sourced): builds console-access in release mode into BIN, and
# starts and stops the servers a benchmark measures against.
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

# The servers a benchmark starts (pids), stopped by `cleanup`: each script runs
# `trap cleanup EXIT` once it has sourced this file.
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

# free_port -> a free loopback port (needs PY).
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# wait_http URL: until URL answers (10 s), else exit 1.
wait_http() {
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "bench: $1 did not answer" >&2
    exit 1
}

# start_moto -> MOTO (url): moto_server on a free loopback port, with the AWS managed policies
# (IAMUserChangePassword), its log in $OUT/moto.log.
start_moto() {
    local port
    port=$(free_port)
    MOTO_IAM_LOAD_MANAGED_POLICIES=true .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$OUT/moto.log" 2>&1 &
    pids+=($!)
    MOTO="http://127.0.0.1:$port"
    wait_http "$MOTO/moto-api/"
}

# require_servers: moto, GNU time and boto3 in the project venv (PY), else exit 2 saying how.
require_servers() {
    for need in .venv/bin/moto_server /usr/bin/time; do
        if [ ! -x "$need" ]; then
            echo "bench: $need missing; run 'make setup setup-time'" >&2
            exit 2
        fi
    done
    if ! "$PY" -c 'import boto3' 2>/dev/null; then
        echo "bench: boto3 missing from .venv; run 'make setup'" >&2
        exit 2
    fi
}
