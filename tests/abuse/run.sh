#!/usr/bin/env bash
# Abuse tests for `make test`: malformed HTTP, long inputs, slowloris, a connection flood,
# 5xx bodies, CORS, stress bounds, a rolling restart behind nginx, secrets in every output.
# Real PostgreSQL, Redis (with a password) and nginx on free loopback ports, the sanitizer
# build of the backend; everything is started and stopped by abuse.test.mjs. About 60 s.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"

require_readable_checkout

for tool in node nginx redis-server redis-cli; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install -y nodejs nginx-light redis-server)"
done
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install -y postgresql)"
make -s -C "$ROOT/backend" asan >/dev/null || die "building the sanitizer backend failed"
exec node --test --test-reporter=spec "$ROOT/tests/abuse/abuse.test.mjs"
