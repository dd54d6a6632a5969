#!/usr/bin/env bash
# install-deps.sh [--test]: install the Debian/Ubuntu packages the stack needs (and, with
# --test, what the test suite needs), only those missing. Uses sudo when not root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNTIME=(build-essential pkg-config libmicrohttpd-dev libpq-dev libhiredis-dev libjansson-dev libunistring-dev
  check postgresql redis-server redis-tools nginx-light curl iproute2)
TEST=(clang libclang-rt-14-dev valgrind jq shellcheck yamllint chromium nodejs npm wrk
  buildah podman runc debootstrap uidmap busybox)

want=("${RUNTIME[@]}")
[ "${1:-}" = "--test" ] && want+=("${TEST[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js may come from elsewhere (nvm, nodesource): a working node and npm are enough.
if command -v node >/dev/null && command -v npm >/dev/null; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | grep -vx -e nodejs -e npm || true)
fi
if [ ${#missing[@]} -eq 0 ] || [ -z "${missing[*]}" ]; then
  exit 0
fi
command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: install them by hand"
log "installing: ${missing[*]}"
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
