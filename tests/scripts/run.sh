#!/usr/bin/env bash
# The shell entry points, without starting any server. About 15 s.
#   - Run as root, every entry point that starts servers (make up, run, test, bench, soak,
#     test-valgrind, chaos, the test areas that start servers, bench/profile.sh,
#     scripts/frontend.sh) stops at once with the same message when a copy of the checkout sits
#     in a directory other users cannot enter (mode 700, as `mktemp -d` makes it), and the check
#     passes once the directory is opened. In the copy, everything an entry point would run after
#     the check (apt, make in backend/, the image build, nginx, PostgreSQL, Redis, node, podman,
#     wrk, valgrind) is replaced by a stub that fails with "past the check", so that a missing
#     check fails this test instead of starting anything.
#   - nginx's user (nobody) alone locked out of frontend/public gets the message naming nginx;
#     pg_start on a directory postgres cannot enter names PostgreSQL.
#   - free_ports: distinct, free, below the kernel's range for outgoing connections.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

FAILS=0
ok() { log "ok: $*"; }
fail() {
  log "FAIL: $*"
  FAILS=$((FAILS + 1))
}

# --- free_ports ----------------------------------------------------------------------------
read -r low _ </proc/sys/net/ipv4/ip_local_port_range
mapfile -t ports < <(free_ports 6)
if [ "${#ports[@]}" = 6 ] && [ "$(printf '%s\n' "${ports[@]}" | sort -u | wc -l)" = 6 ] &&
  [ -z "$(printf '%s\n' "${ports[@]}" | awk -v low="$low" '$1 < 10000 || $1 >= low')" ]; then
  ok "free_ports 6: ${ports[*]} (distinct, 10000..$((low - 1)))"
else
  fail "free_ports 6 gave '${ports[*]}' (want 6 distinct ports in 10000..$((low - 1)))"
fi

if [ "$(id -u)" -ne 0 ]; then
  # Not root: every server runs as the calling user, so there is nothing to check.
  log "not root: the readable-checkout checks need root (they switch to postgres and nobody)"
  [ "$FAILS" = 0 ] || die "$FAILS check(s) failed"
  exit 0
fi
id -u nobody >/dev/null 2>&1 || die "no user 'nobody' on this machine"

# --- a copy of the checkout in a mode-700 directory ---------------------------------------
outer=$(mktemp -d /tmp/webapp-scripts.XXXXXX) # mode 700
trap 'rm -rf "$outer"' EXIT
copy=$outer/webapp
mkdir -p "$copy"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard |
  tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$copy" -xf -
chmod 755 "$copy"

# Stubs for whatever comes after the check.
stubs=$outer/stubs
mkdir -p "$stubs"
cat >"$stubs/stub" <<'STUB'
#!/bin/sh
echo "past the check: $0" >&2
exit 97
STUB
chmod 755 "$stubs/stub"
for tool in apt-get nginx redis-server redis-cli node npm podman buildah wrk valgrind \
  initdb pg_ctl psql chromium callgrind_control callgrind_annotate; do
  ln -s stub "$stubs/$tool"
done
cp "$stubs/stub" "$copy/scripts/install-deps.sh"
cp "$stubs/stub" "$copy/scripts/images.sh"
printf 'all release asan check:\n\t@echo "past the check: make in backend/" >&2; exit 97\n' >"$copy/backend/Makefile"
mapfile -t p < <(free_ports 4)
stub_env=(PATH="$stubs:$PATH" PGBIN="$stubs" STACK_DIR="$outer/stack" SERVER_PORT="${p[0]}"
  FRONTEND_PORT="${p[1]}" PG_PORT="${p[2]}" REDIS_PORT="${p[3]}" CHROMIUM="$stubs/chromium")

# refused WHAT CMD...: CMD (run in the copy) fails within 30 s with the message naming $1.
refused() {
  local what=$1 out rc=0
  shift
  out=$(cd "$copy" && timeout 30 env "${stub_env[@]}" "$@" 2>&1) || rc=$?
  if [ "$rc" = 0 ] || [[ $out == *"past the check"* ]] || [[ $out != *"$what"*"who cannot read $copy"* ]] ||
    [[ $out != *"$outer is mode 700"* ]]; then
    fail "$*: exit $rc, expected the readable-checkout message naming $what; got: $(tail -n 3 <<<"$out")"
  else
    ok "$*: stopped at once: $(grep -m 1 'who cannot read' <<<"$out" | sed 's/^\[[0-9:]*\] //')"
  fi
}

log "a checkout in $outer (mode 700)"
refused PostgreSQL make up
refused PostgreSQL make run
refused PostgreSQL make test
refused PostgreSQL make bench
refused PostgreSQL make soak
refused PostgreSQL make test-valgrind
refused PostgreSQL make chaos
refused PostgreSQL scripts/test.sh e2e
for area in integration abuse e2e images; do refused PostgreSQL "tests/$area/run.sh"; done
refused PostgreSQL bench/profile.sh
refused nginx scripts/frontend.sh start

# The same checks pass once other users may enter the directory.
chmod 755 "$outer"
if out=$(bash -c '. "$1/scripts/lib.sh" && require_readable_checkout' _ "$copy" 2>&1); then
  ok "mode 755: require_readable_checkout passes"
else
  fail "mode 755: require_readable_checkout refused: $out"
fi
rc=0
out=$(cd "$copy" && timeout 30 env "${stub_env[@]}" make up 2>&1) || rc=$?
if [[ $out == *"past the check: "*install-deps* ]]; then
  ok "mode 755: make up goes past the check (to the install-deps stub)"
else
  fail "mode 755: make up did not reach install-deps (exit $rc): $(tail -n 3 <<<"$out")"
fi

# nginx's workers alone locked out: the message names nginx and nobody.
chmod 700 "$copy/frontend/public"
rc=0
out=$(bash -c '. "$1/scripts/lib.sh" && require_readable_checkout' _ "$copy" 2>&1) || rc=$?
if [ "$rc" != 0 ] && [[ $out == *"nginx (its worker processes) runs as the user nobody, who cannot read $copy/frontend/public"* ]]; then
  ok "frontend/public mode 700: refused, naming nginx and nobody"
else
  fail "frontend/public mode 700: exit $rc: $out"
fi
chmod 755 "$copy/frontend/public"

# pg_start on a directory postgres cannot enter (the state of `make up` may live elsewhere).
if id -u postgres >/dev/null 2>&1; then
  mkdir -m 700 "$outer/locked"
  rc=0
  out=$(bash -c '. "$1/scripts/lib.sh" && pg_start "$2/locked/pg" 1' _ "$copy" "$outer" 2>&1) || rc=$?
  if [ "$rc" != 0 ] && [[ $out == *"PostgreSQL runs as the user postgres, who cannot read $outer/locked/pg: $outer/locked is mode 700"* ]]; then
    ok "pg_start in a mode-700 directory: refused, naming PostgreSQL"
  else
    fail "pg_start in a mode-700 directory: exit $rc: $out"
  fi
fi

[ "$FAILS" = 0 ] || die "$FAILS check(s) failed"
log "scripts: all checks passed"
