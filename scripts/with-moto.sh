#!/usr/bin/env bash
# Runs a command with a moto server (the local IAM/STS emulator) listening on a free
# 127.0.0.1 port, and always stops the server afterwards.
#
#   scripts/with-moto.sh COMMAND [ARGS...]
#
# The command sees:
#   CONSOLE_ACCESS_MOTO_ENDPOINT  http://127.0.0.1:PORT of the running server
#   CONSOLE_ACCESS_MOTO_SERVER    path of moto_server, so tests can start private instances
# The exit status is the command's.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
moto="${MOTO_SERVER:-$here/.venv/bin/moto_server}"
if [ ! -x "$moto" ]; then
    echo "with-moto: $moto not found; run 'make setup' first" >&2
    exit 2
fi
logdir="${TMPDIR:-/tmp}"
log="$(mktemp "$logdir/moto-server.XXXXXX.log")"
pid=""
stop() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -f "$log"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
    "$here/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

started=0
for try in 1 2 3; do
    port="$(free_port)"
    MOTO_IAM_LOAD_MANAGED_POLICIES=true "$moto" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/moto-api/" 2>/dev/null; then
            started=1
            break
        fi
        sleep 0.1
    done
    [ "$started" = 1 ] && break
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
done
if [ "$started" != 1 ]; then
    echo "with-moto: moto server did not start; its log:" >&2
    cat "$log" >&2 || true
    exit 2
fi
echo "with-moto: moto server on http://127.0.0.1:$port (pid $pid)" >&2
export CONSOLE_ACCESS_MOTO_ENDPOINT="http://127.0.0.1:$port"
export CONSOLE_ACCESS_MOTO_SERVER="$moto"
set +e
"$@"
status=$?
set -e
exit "$status"
