#!/usr/bin/env bash
# fuzz.sh [SECONDS] [HARNESS...] - run every libFuzzer harness of backend/fuzz for SECONDS each
# (default 60; FUZZ_SECONDS works too), FUZZ_JOBS at a time (default: the number of CPUs).
#
# Seeds come from backend/fuzz/corpus/<harness>/ (in the repository, replayed first on every
# run); what the fuzzer learns accumulates in artifacts/fuzz/corpus/<harness>/ (gitignored;
# FUZZ_WORK_DIR overrides it, the smoke test uses a temporary one). A crash, a sanitizer
# report or a broken invariant fails the run and leaves the input in artifacts/fuzz/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

SECONDS_EACH=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
if ! [[ $SECONDS_EACH =~ ^[1-9][0-9]*$ ]]; then die "usage: fuzz.sh [SECONDS] [HARNESS...]"; fi
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=(users router reqid config log http)
JOBS=${FUZZ_JOBS:-$(nproc)}
FUZZ_DIR=$ROOT/backend/fuzz
BUILD=$ROOT/backend/build/fuzz
OUT=$ROOT/artifacts/fuzz
WORK=${FUZZ_WORK_DIR:-$OUT/corpus}

command -v clang >/dev/null || die "clang not found: apt-get install -y clang libclang-rt-14-dev"
[ -f "$(clang -print-resource-dir)/lib/linux/libclang_rt.fuzzer-$(uname -m).a" ] ||
  die "libFuzzer runtime not found: apt-get install -y libclang-rt-14-dev"

log "building the harnesses (clang, -fsanitize=fuzzer,address,undefined)"
make -s -C "$FUZZ_DIR" -j"$JOBS" >/dev/null || die "building the fuzz harnesses failed"
mkdir -p "$OUT"

# Per harness: extra libFuzzer flags (input size, dictionary).
flags() {
  case $1 in
  users) echo "-max_len=16384 -dict=$FUZZ_DIR/json.dict" ;;
  http) echo "-max_len=8192 -dict=$FUZZ_DIR/http.dict" ;;
  config) echo "-max_len=4096" ;;
  *) echo "-max_len=1024" ;;
  esac
}

run_one() {
  local h=$1 logf=$OUT/$1.log
  mkdir -p "$WORK/$h"
  # shellcheck disable=SC2046 # flags are words on purpose
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$BUILD/fuzz_$h" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$OUT/$h-" $(flags "$h") \
    "$WORK/$h" "$FUZZ_DIR/corpus/$h" >"$logf" 2>&1
}

log "running ${#HARNESSES[@]} harnesses for ${SECONDS_EACH}s each, $JOBS at a time"
declare -A pids=()
for h in "${HARNESSES[@]}"; do
  [ -x "$BUILD/fuzz_$h" ] || die "no harness named $h"
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  run_one "$h" &
  pids[$h]=$!
done

failed=0
printf '\n%-8s %-6s %10s %8s %6s %8s\n' harness result execs exec/s cov corpus
for h in "${HARNESSES[@]}"; do
  rc=0
  wait "${pids[$h]}" || rc=$?
  logf=$OUT/$h.log
  stat() { sed -n "s/^stat::$1: *//p" "$logf" | tail -n 1 || true; }
  cov=$(grep -oE 'cov: [0-9]+' "$logf" | tail -n 1 | cut -d' ' -f2 || true)
  corp=$(find "$WORK/$h" -type f | wc -l)
  printf '%-8s %-6s %10s %8s %6s %8s\n' "$h" "$([ $rc = 0 ] && echo ok || echo FAIL)" \
    "$(stat number_of_executed_units)" "$(stat average_exec_per_sec)" "${cov:-?}" "$corp"
  if [ $rc != 0 ]; then
    failed=1
    grep -E 'ERROR|invariant failed|runtime error|Test unit written' "$logf" | head -n 5 | sed 's/^/    /' >&2
  fi
done
echo
if [ $failed != 0 ]; then
  log "a harness failed; logs in $OUT/<harness>.log. Replay a crash with"
  log "  backend/build/fuzz/fuzz_<harness> $OUT/<harness>-crash-...   (FUZZ_HTTP_DEBUG=1 shows replies)"
  log "then keep the input in backend/fuzz/corpus/<harness>/ so every later run replays it."
  exit 1
fi
log "no crash, no sanitizer report, no broken invariant"
