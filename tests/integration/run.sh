#!/usr/bin/env bash
# Integration tests: each file starts its own PostgreSQL + Redis and backends (sanitizer build).
# Files run one after another so that fault tests never disturb each other.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
require_readable_checkout
cd "$ROOT"
make -s -C backend asan release
rc=0
for f in tests/integration/*.test.mjs; do
  echo "--- $f"
  node --test --test-reporter=spec "$f" || rc=1
done
exit $rc
