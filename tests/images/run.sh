#!/usr/bin/env bash
# Container images, proven here: builds both images with scripts/images.sh (what `make images`
# runs), runs the backend image against a PostgreSQL and a Redis started by this script, runs
# the frontend image in front of it, and inspects both images. Containers use the host network
# only (loopback), podman with runc and a containers.conf generated in the temp dir.
#
#   tests/images/run.sh   15-40 s warm (cached base and layers), 80-130 s cold (debootstrap)
#
# Environment: TAG (image tag, default as scripts/images.sh), KEEP=1 keeps the temp dir.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=../../scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

T0=$(date +%s)
MAX_BACKEND_MB=100
SHUTDOWN_DRAIN=2   # SHUTDOWN_DRAIN_SECONDS given to the backend container
GRACE=15           # the stop grace period the SIGTERM exit must fit in (compose: 15 s, k8s: 30 s)
ARTIFACTS=$ROOT/artifacts/images
FAILS=0

step() { log "== $*"; }
ok() { log "ok: $*"; }
fail() {
  log "FAIL: $*"
  FAILS=$((FAILS + 1))
}
# check DESCRIPTION CMD...: ok when CMD succeeds, else a failure (the suite goes on).
check() {
  local desc=$1
  shift
  if "$@"; then ok "$desc"; else fail "$desc"; fi
}
http_code() { curl -s -m "${2:-5}" -o /dev/null -w '%{http_code}' "$1" || true; }
# lists_email URL EMAIL: the JSON array at URL holds a user with EMAIL
lists_email() { curl -s -m 5 "$1" | jq -e --arg e "$2" 'any(.[]; .email == $e)' >/dev/null; }
# json_lines CONTAINER: every line the container logged so far is a JSON object
json_lines() {
  podman logs "$1" >"$WORK/$1.log" 2>&1 &&
    jq -e -s 'length > 0 and all(type == "object")' "$WORK/$1.log" >/dev/null
}
elapsed() { echo $(($(date +%s) - $1)); }

require_readable_checkout

# --- tools: fail loudly with what to install, never skip ---------------------------------
missing=()
for tool in buildah podman runc conmon curl jq yamllint node; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/bin/$tool" ] || [ -x "/usr/libexec/podman/$tool" ] ||
    missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  die "missing tools: ${missing[*]} (apt-get install -y buildah podman runc conmon debootstrap curl jq yamllint nodejs)"
fi
[ -d "$ROOT/node_modules/yaml" ] || die "node module 'yaml' missing: run npm ci in $ROOT"

WORK=$(stack_tmpdir images)
mkdir -p "$ARTIFACTS"
BE=webapp-images-backend-$$
FE=webapp-images-frontend-$$

cleanup() {
  local rc=$?
  set +e
  for c in "$FE" "$BE"; do
    if podman container exists "$c" 2>/dev/null; then
      podman logs "$c" >"$ARTIFACTS/$c.log" 2>&1
      podman rm -f -t 5 "$c" >/dev/null 2>&1
    fi
  done
  if [ "${KEEP:-0}" = 1 ]; then
    stack_stop "$WORK"
    log "kept $WORK"
  else
    stack_cleanup "$WORK"
  fi
  log "images suite finished in $(elapsed "$T0")s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# podman: runc, cgroupfs, bounded ulimits; only --network=host or --network=none are used.
cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF=$WORK/containers.conf

# --- compose file: lint and structure (no Docker engine here to run it) -------------------
step "docker/compose.yaml"
yamllint -s -d '{extends: default, rules: {line-length: {max: 120}, document-start: disable}}' \
  "$ROOT/docker/compose.yaml" || fail "yamllint docker/compose.yaml"
if HEALTHCHECKS=$(cd "$ROOT" && node tests/images/compose_check.mjs docker/compose.yaml); then
  ok "compose structure: pinned images, health checks, service_healthy ordering, frontend on :8080"
else
  fail "docker/compose.yaml structure"
  HEALTHCHECKS='{}'
fi

# --- build, exactly as a user does -----------------------------------------------------
step "build both images (scripts/images.sh, buildah)"
# The tag is fixed once: `git describe --dirty` may change while the suite runs.
mapfile -t NAMES < <(IMAGE_ENGINE=buildah "$ROOT/scripts/images.sh" names)
BACKEND_IMAGE=${NAMES[0]}
FRONTEND_IMAGE=${NAMES[1]}
IMAGE_TAG=${BACKEND_IMAGE##*:}
export TAG=$IMAGE_TAG
t=$(date +%s)
IMAGE_ENGINE=buildah BUILDAH_QUIET=1 "$ROOT/scripts/images.sh" build >"$WORK/build.log" 2>&1 || {
  tail -n 40 "$WORK/build.log" >&2
  cp "$WORK/build.log" "$ARTIFACTS/build.log"
  die "image build failed (full log: artifacts/images/build.log)"
}
cp "$WORK/build.log" "$ARTIFACTS/build.log"
ok "built $BACKEND_IMAGE and $FRONTEND_IMAGE in $(elapsed "$t")s"

# --- image inspection -------------------------------------------------------------------
step "inspect images"
size_mb() { podman image inspect --format '{{.Size}}' "$1" | awk '{printf "%.1f", $1 / 1000000}'; }
BACKEND_MB=$(size_mb "$BACKEND_IMAGE")
FRONTEND_MB=$(size_mb "$FRONTEND_IMAGE")
printf '%s %s MB\n%s %s MB\n' "$BACKEND_IMAGE" "$BACKEND_MB" "$FRONTEND_IMAGE" "$FRONTEND_MB" |
  tee "$ARTIFACTS/sizes.txt" >&2
if awk -v s="$BACKEND_MB" -v max="$MAX_BACKEND_MB" 'BEGIN { exit !(s < max) }'; then
  ok "backend image ${BACKEND_MB} MB < ${MAX_BACKEND_MB} MB"
else
  fail "backend image is ${BACKEND_MB} MB, target < ${MAX_BACKEND_MB} MB"
fi

for img in "$BACKEND_IMAGE" "$FRONTEND_IMAGE"; do
  user=$(podman image inspect --format '{{.Config.User}}' "$img")
  case ${user%%:*} in
  '' | 0 | root) fail "$img runs as root (USER '$user')" ;;
  *[!0-9]*) fail "$img: USER '$user' is not numeric (runAsNonRoot cannot verify it)" ;;
  *) ok "$img runs as numeric non-root user $user" ;;
  esac
  label() { podman image inspect --format "{{index .Labels \"org.opencontainers.image.$1\"}}" "$img"; }
  [ "$(label version)" = "$IMAGE_TAG" ] || fail "$img: label version '$(label version)' != '$IMAGE_TAG'"
  check "$img: revision and source labels" test -n "$(label revision)" -a -n "$(label source)"

  # The runtime filesystem: no compiler, no headers, no apt package lists.
  ctr=$(podman create --network=none "$img")
  podman export "$ctr" | tar -t >"$WORK/files.txt"
  podman rm "$ctr" >/dev/null
  bad=$(grep -E '^(\./)?(usr/bin/(gcc|cc|c\+\+|g\+\+|cpp|clang|ld|as|make)(-[0-9.]+)?$|usr/lib/gcc/.|usr/libexec/gcc/.|usr/include/.+\.h$|usr/lib/x86_64-linux-gnu/pkgconfig/.|var/lib/apt/lists/[^/]+_(Packages|Release|InRelease|Sources)(\.[a-z0-9]+)?$)' \
    "$WORK/files.txt" | head -n 5 || true)
  if [ -n "$bad" ]; then
    fail "$img holds build tools, headers or package lists: $(echo "$bad" | tr '\n' ' ')"
  else
    ok "$img: no compiler, headers or package lists ($(wc -l <"$WORK/files.txt") files)"
  fi
  if [ "$img" = "$BACKEND_IMAGE" ]; then
    check "backend binary at /usr/local/bin/backend" grep -qE '^(\./)?usr/local/bin/backend$' "$WORK/files.txt"
  fi
done

version=$(podman run --rm --network=none "$BACKEND_IMAGE" --version 2>&1 || true)
if [[ $version == *"$IMAGE_TAG"* ]]; then ok "backend --version: $version"; else fail "backend --version '$version' lacks tag $IMAGE_TAG"; fi

# --- PostgreSQL and Redis on loopback ---------------------------------------------------
step "PostgreSQL and Redis"
stack_start "$WORK"
ok "PostgreSQL on 127.0.0.1:$STACK_PG_PORT, Redis on 127.0.0.1:$STACK_REDIS_PORT"

# --- backend container --------------------------------------------------------------------
step "backend container (--read-only, --network=host)"
B_PORT=$(free_port)
stack_env "$B_PORT" images-test-backend
env_args=()
for kv in "${STACK_ENV[@]}"; do
  [[ $kv == SHUTDOWN_DRAIN_SECONDS=* ]] || env_args+=(-e "$kv")
done
env_args+=(-e SHUTDOWN_DRAIN_SECONDS="$SHUTDOWN_DRAIN")
podman run -d --name "$BE" --network=host --read-only --cap-drop=ALL \
  --security-opt no-new-privileges "${env_args[@]}" "$BACKEND_IMAGE" >/dev/null
B=http://127.0.0.1:$B_PORT
if wait_http "$B/health/ready" 30; then
  ok "/health/ready 200"
else
  podman logs "$BE" 2>&1 | tail -n 20 >&2
  die "backend container not ready on $B within 30 s"
fi
check "backend process runs as uid 10001" test "$(podman exec "$BE" id -u)" = 10001
if podman exec "$BE" sh -c 'touch /probe' 2>/dev/null; then fail "backend root filesystem is writable"; else ok "backend root filesystem is read-only"; fi

EMAIL="image-$$-$RANDOM@example.com"
code=$(curl -s -o "$WORK/created.json" -D "$WORK/created.h" -w '%{http_code}' -m 5 \
  -H 'Content-Type: application/json' -d "{\"name\":\"Image Test\",\"email\":\"$EMAIL\"}" "$B/api/users")
ID=$(jq -r '.id // empty' "$WORK/created.json" 2>/dev/null || true)
if [ "$code" = 201 ] && [ -n "$ID" ]; then ok "POST /api/users 201 (id $ID)"; else fail "POST /api/users: $code $(cat "$WORK/created.json")"; fi
curl -s -m 5 -o /dev/null "$B/api/users/$ID"
got=$(curl -s -m 5 -D "$WORK/get.h" "$B/api/users/$ID")
if [ "$(jq -r .email <<<"$got" 2>/dev/null)" = "$EMAIL" ] && grep -qi '^x-cache: hit' "$WORK/get.h"; then
  ok "GET /api/users/$ID returns the user, second read is a cache hit (Redis reached from the container)"
else
  fail "GET /api/users/$ID: $got / $(grep -i x-cache "$WORK/get.h" | tr -d '\r')"
fi
check "GET /api/users lists $EMAIL" lists_email "$B/api/users?limit=5" "$EMAIL"
metrics=$(curl -s -m 5 "$B/metrics")
if grep -q "^build_info{.*version=\"$IMAGE_TAG\"" <<<"$metrics" && grep -q '^http_requests_total{' <<<"$metrics"; then
  ok "/metrics: build_info{version=\"$IMAGE_TAG\"} and http_requests_total"
else
  fail "/metrics lacks build_info{version=\"$IMAGE_TAG\"} or http_requests_total"
fi
check "backend logs are JSON lines" json_lines "$BE"

# --- frontend container in front of it ---------------------------------------------------
step "frontend container (--read-only + tmpfs /tmp, --network=host)"
F_PORT=$(free_port)
podman run -d --name "$FE" --network=host --read-only --tmpfs /tmp:rw,size=16m,mode=1777 \
  --cap-drop=ALL --security-opt no-new-privileges \
  -e BACKEND_URL="$B" -e LISTEN_PORT="$F_PORT" "$FRONTEND_IMAGE" >/dev/null
F=http://127.0.0.1:$F_PORT
if wait_http "$F/healthz" 20; then
  ok "frontend /healthz 200"
else
  podman logs "$FE" 2>&1 | tail -n 20 >&2
  die "frontend container not answering on $F within 20 s"
fi
check "nginx runs as uid 10001" test "$(podman exec "$FE" id -u)" = 10001
if podman exec "$FE" sh -c 'touch /probe' 2>/dev/null; then fail "frontend root filesystem is writable"; else ok "frontend root filesystem is read-only"; fi
check "nginx -t accepts the configuration rendered in the image" \
  podman run --rm --network=none --read-only --tmpfs /tmp:rw,size=16m,mode=1777 \
  -e BACKEND_URL=http://127.0.0.1:8080 "$FRONTEND_IMAGE" -t -q
page=$(curl -s -m 5 -D "$WORK/page.h" "$F/")
if grep -qi '<html' <<<"$page" && grep -qi '^content-security-policy:' "$WORK/page.h"; then
  ok "GET / serves the page with a Content-Security-Policy"
else
  fail "GET / did not serve the page"
fi
check "SPA fallback: /some/client/route is 200" test "$(http_code "$F/some/client/route")" = 200
users=$(curl -s -m 5 -D "$WORK/users.h" "$F/api/users?limit=5")
if jq -e --arg e "$EMAIL" 'any(.[]; .email == $e)' <<<"$users" >/dev/null &&
  grep -qi '^x-served-by: images-test-backend' "$WORK/users.h"; then
  ok "GET /api/users through nginx reaches the backend container"
else
  fail "GET /api/users through nginx: $(head -c 200 <<<"$users")"
fi
code=$(curl -s -m 5 -o "$WORK/viafe.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  -d "{\"name\":\"Via Frontend\",\"email\":\"fe-$EMAIL\"}" "$F/api/users")
check "POST /api/users through nginx: 201 (got $code)" test "$code" = 201
check "/health/ready through nginx is 200" test "$(http_code "$F/health/ready")" = 200

# The compose health checks, run inside the real images (port rewritten: host network here).
for svc in backend frontend; do
  port=$B_PORT ctr=$BE
  [ "$svc" = frontend ] && port=$F_PORT ctr=$FE
  mapfile -t hc < <(jq -r --arg s "$svc" '.[$s][]?' <<<"$HEALTHCHECKS" | sed "s|/8080|/$port|g")
  if [ "${#hc[@]}" -gt 0 ] && timeout 10 podman exec "$ctr" "${hc[@]}"; then
    ok "compose healthcheck of $svc passes inside the image"
  else
    fail "compose healthcheck of $svc fails inside the image"
  fi
done

# --- stopping ------------------------------------------------------------------------------
step "stop: podman stop sends each image's STOPSIGNAL, SIGKILL after the grace period"
check "backend STOPSIGNAL is SIGTERM" test "$(podman image inspect --format '{{.Config.StopSignal}}' "$BACKEND_IMAGE")" = SIGTERM
# A request in flight when the stop begins must complete.
curl -s -m 20 -o "$WORK/inflight.json" -w '%{http_code}' "$B/api/stress?ms=1500" >"$WORK/inflight.code" 2>/dev/null &
INFLIGHT=$!
sleep 0.3
t=$(date +%s)
podman stop -t "$GRACE" "$BE" >/dev/null 2>&1 &
STOPPER=$!
sleep 0.5
code=$(http_code "$B/health/ready" 2)
check "readiness 503 during the drain (got $code)" test "$code" = 503
check "still serving /health/live during the drain" test "$(http_code "$B/health/live" 2)" = 200
wait "$INFLIGHT" || true
check "the request in flight at the stop completed: $(cat "$WORK/inflight.code")" test "$(cat "$WORK/inflight.code")" = 200
wait "$STOPPER" || true
took=$(elapsed "$t")
rc=$(podman inspect --format '{{.State.ExitCode}}' "$BE")
check "backend exited 0 on SIGTERM (got $rc) in ${took}s (drain ${SHUTDOWN_DRAIN}s, grace ${GRACE}s)" \
  test "$rc" = 0 -a "$took" -lt "$GRACE"
t=$(date +%s)
podman stop -t "$GRACE" "$FE" >/dev/null
rc=$(podman inspect --format '{{.State.ExitCode}}' "$FE")
check "frontend (nginx, SIGQUIT) exited 0 (got $rc) in $(elapsed "$t")s" test "$rc" = 0

if [ "$FAILS" -gt 0 ]; then
  die "$FAILS image check(s) failed"
fi
log "all image checks passed (backend ${BACKEND_MB} MB, frontend ${FRONTEND_MB} MB)"
