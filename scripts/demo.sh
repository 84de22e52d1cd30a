#!/usr/bin/env bash
# make demo: the main job on a local emulator with the sample files. Never touches real AWS.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
exec "$here/scripts/with-moto.sh" "$here/scripts/demo-steps.sh"
