#!/usr/bin/env bash
# chaos.sh - `make chaos`: a mixed workload against one backend while Redis is killed, frozen
# and restarted and PostgreSQL is stopped, crashed, locked and restarted on a schedule; then
# verifies that nothing acknowledged was lost and prints a report (also artifacts/chaos/).
# Takes about 3 minutes; CHAOS_SCALE=2 doubles every phase. BACKEND_BIN picks the binary
# (default: the sanitizer build, so a memory error under faults fails the run).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_readable_checkout

for tool in node redis-server redis-cli; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nodejs redis-server)"
done
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install -y postgresql)"
make -s -C "$ROOT/backend" asan >/dev/null || die "building the sanitizer backend failed"
limit=$(awk -v s="${CHAOS_SCALE:-1}" 'BEGIN { printf "%d", 120 + 480 * s }')
timeout --kill-after=10 "$limit" node --test --test-reporter=spec "$ROOT/tests/chaos/chaos.test.mjs" ||
  die "chaos failed (or ran over ${limit}s); details in $ROOT/artifacts/chaos/"
