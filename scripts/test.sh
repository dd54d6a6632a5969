#!/usr/bin/env bash
# test.sh [AREA...]: the test suite. Builds with -Werror, runs the unit tests under the
# sanitizers, then every tests/<area>/run.sh (or only the AREAs named). Each area starts and
# stops its own servers on free loopback ports. Prints a summary with timings; fails if any fails.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

require_readable_checkout

"$ROOT/scripts/install-deps.sh" --test
if [ ! -d "$ROOT/node_modules/playwright-core" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules" ]; then
  (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Fixed order: cheap and fundamental first.
ORDER=(lint unit scripts integration fuzz abuse e2e k8s images)
areas=("$@")
[ ${#areas[@]} -gt 0 ] || areas=("${ORDER[@]}")

declare -a results=()
failed=0
run_area() {
  local area=$1 t0 rc=0
  t0=$(date +%s)
  log "=== $area"
  if [ "$area" = lint ]; then
    make -s -C "$ROOT" lint || rc=$?
  elif [ "$area" = unit ]; then
    make -s -C "$ROOT/backend" release asan && make -s -C "$ROOT/backend" check || rc=$?
  elif [ -x "$ROOT/tests/$area/run.sh" ]; then
    "$ROOT/tests/$area/run.sh" || rc=$?
  else
    log "tests/$area/run.sh is missing"
    rc=1
  fi
  results+=("$(printf '%-12s %-4s %4ss' "$area" "$([ $rc = 0 ] && echo ok || echo FAIL)" $(($(date +%s) - t0)))")
  [ $rc = 0 ] || failed=1
}

for a in "${areas[@]}"; do run_area "$a"; done
echo
echo "Summary:"
printf '  %s\n' "${results[@]}"
[ $failed = 0 ] || die "some tests failed"
log "all tests passed"
