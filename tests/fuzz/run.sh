#!/usr/bin/env bash
# Fuzz smoke for `make test`: every harness replays its seed corpus (crash reproducers
# included), then fuzzes for FUZZ_SMOKE_SECONDS (default 10) from a fresh work directory.
# About 35 s on 2 CPUs (build included). The long run is `make fuzz`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/webapp-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
FUZZ_WORK_DIR=$work "$ROOT/scripts/fuzz.sh" "${FUZZ_SMOKE_SECONDS:-10}"
