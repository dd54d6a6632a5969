# Shared by scripts/k8s/*.sh (sourced, not run): names, the kubectl wrapper, the image
# tag, bounded waits that explain themselves.
# Runs on Linux and macOS: bash 3.2 compatible, no GNU-only tools (no timeout, no sed -i).
# shellcheck shell=bash

# Functions called in $(...) stop at their first failure too (bash >= 4.4; the scripts
# never rely on it: a function that may die is not called inside $(...) for its effect).
shopt -s inherit_errexit 2>/dev/null || true

# scripts/lib.sh looks for PostgreSQL binaries when sourced; a laptop that only runs
# kind may have none, which must not stop these scripts (nor scripts/images.sh, which
# sources it too).
export PGBIN=${PGBIN:-/nonexistent}
# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

CLUSTER_NAME=${CLUSTER_NAME:-webapp-cluster}
KUBE_CONTEXT=${KUBE_CONTEXT:-kind-$CLUSTER_NAME}
NAMESPACE=webapp
APP_HOST=${APP_HOST:-webapp.local}
# Host ports for a new cluster; an existing cluster's own mapping wins (use_cluster_ports).
INGRESS_HTTP_PORT_SET=${INGRESS_HTTP_PORT:-}
INGRESS_HTTPS_PORT_SET=${INGRESS_HTTPS_PORT:-}
INGRESS_HTTP_PORT=${INGRESS_HTTP_PORT:-80}
INGRESS_HTTPS_PORT=${INGRESS_HTTPS_PORT:-443}
K8S_DIR=$ROOT/k8s
KIND_CONFIG=${KIND_CONFIG:-$K8S_DIR/kind/cluster.yaml}
# Generated files (rendered overlays, the built tag, downloaded add-on manifests): gitignored.
K8S_STATE_DIR=${K8S_STATE_DIR:-$ROOT/.local/k8s}
BACKEND_IMAGE_NAME=localhost/webapp-backend
FRONTEND_IMAGE_NAME=localhost/webapp-frontend
HOSTS_FILE=${HOSTS_FILE:-/etc/hosts}
# Upper bound for each wait, in seconds (a first start pulls postgres, redis, Contour...).
WAIT_TIMEOUT=${WAIT_TIMEOUT:-300}
# The credentials Secret that deploy.sh creates once per cluster (never committed).
# shellcheck disable=SC2034 # used by the scripts that source this file
CREDENTIALS_SECRET=webapp-credentials

# Every kubectl call names the kind cluster's context: nothing here can touch another
# cluster that happens to be the current context.
kc() { kubectl --context "$KUBE_CONTEXT" "$@"; }
kn() { kubectl --context "$KUBE_CONTEXT" -n "$NAMESPACE" "$@"; }

# need_cmd NAME HOW: die with how to install NAME when it is missing.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# hint CAUSE COMMAND...: what probably went wrong and the command that shows it.
hint() {
  local cause=$1
  shift
  printf '  likely cause: %s\n' "$cause" >&2
  local c
  for c in "$@"; do
    printf '  look with:    %s\n' "$c" >&2
  done
}

# cluster_exists: true when kind knows the cluster.
cluster_exists() {
  kind get clusters 2>/dev/null | grep -qx "$CLUSTER_NAME"
}

require_cluster() {
  cluster_exists || die "kind cluster '$CLUSTER_NAME' does not exist: run 'task cluster:create' (or 'task setup')"
}

# compute_tag: the tag for images built now. A clean tree gives `git describe` (the same
# code, the same tag); a dirty tree adds a timestamp, so that every build of changed code
# gets a new tag and the deployment rolls out instead of keeping the old image.
compute_tag() {
  local d
  d=$(git -C "$ROOT" describe --tags --always --dirty 2>/dev/null || echo dev)
  case $d in
  *-dirty) d="$d-$(date -u +%Y%m%d%H%M%S)" ;;
  esac
  echo "$d"
}

# valid_tag TAG: what Docker accepts as a tag.
valid_tag() {
  printf '%s' "$1" | grep -Eq '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$'
}

# image_tag COMPONENT: the tag of the last build of backend|frontend (TAG from the
# environment wins). Load and deploy use it, so the tag loaded and deployed is always the
# one built.
image_tag() {
  local t=${TAG:-}
  if [ -z "$t" ] && [ -f "$K8S_STATE_DIR/tag-$1" ]; then
    t=$(cat "$K8S_STATE_DIR/tag-$1")
  fi
  [ -n "$t" ] || die "no image tag for the $1: run 'task build' first (or set TAG=...)"
  valid_tag "$t" || die "invalid image tag '$t'"
  echo "$t"
}

# components WHICH: backend|frontend|all -> the component names, one a line.
components() {
  case ${1:-all} in
  backend | frontend) echo "$1" ;;
  all) printf 'backend\nfrontend\n' ;;
  *) die "expected backend, frontend or all (got '$1')" ;;
  esac
}

# image_name COMPONENT: the image reference without its tag.
image_name() {
  case $1 in
  backend) echo "$BACKEND_IMAGE_NAME" ;;
  frontend) echo "$FRONTEND_IMAGE_NAME" ;;
  *) die "unknown component '$1'" ;;
  esac
}

# port_in_use PORT: something listens on TCP PORT of this machine (Linux or macOS),
# whoever owns it. Linux: `ss -ltn` lists every listener without root. macOS has no ss,
# and lsof without sudo hides root's listeners (a web server started by launchd, another
# Docker tool): netstat lists every socket, and a connection to 127.0.0.1:PORT (which is
# what kind binds) succeeds whoever listens.
port_in_use() {
  local p=$1
  case $(uname -s) in
  Darwin)
    netstat -an -p tcp 2>/dev/null | awk -v p="$p" '
      $NF == "LISTEN" { n = split($4, a, "."); if (a[n] == p) found = 1 }
      END { exit !found }' && return 0
    nc -z -w 2 127.0.0.1 "$p" >/dev/null 2>&1
    ;;
  *)
    if command -v ss >/dev/null 2>&1; then
      [ -n "$(ss -ltnH "sport = :$p" 2>/dev/null)" ]
    else
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null
    fi
    ;;
  esac
}

# mapped_port CONTAINER_PORT: the host port the cluster's control-plane node maps
# CONTAINER_PORT/tcp to (`docker port`), or nothing when there is no such cluster.
mapped_port() {
  docker port "$CLUSTER_NAME-control-plane" "$1/tcp" 2>/dev/null |
    awk 'NR == 1 { n = split($0, a, ":"); print a[n] }' || true
}

# use_cluster_ports: INGRESS_HTTP_PORT / INGRESS_HTTPS_PORT become the host ports the
# existing cluster maps. The cluster itself remembers the ports chosen when it was created
# (`INGRESS_HTTP_PORT=8080 task setup`), so later tasks (verify, hosts:add, the URLs
# printed) use the right port without the variables, whatever created the cluster and
# even after .local/ is gone. A variable that disagrees applies to a new cluster only,
# and a note says so. Without a cluster (or Docker), the variables or 80/443 stay.
use_cluster_ports() {
  local http https
  http=$(mapped_port 80)
  https=$(mapped_port 443)
  if [ -n "$http" ]; then
    port_note INGRESS_HTTP_PORT "$INGRESS_HTTP_PORT_SET" 80 "$http"
    INGRESS_HTTP_PORT=$http
  fi
  if [ -n "$https" ]; then
    port_note INGRESS_HTTPS_PORT "$INGRESS_HTTPS_PORT_SET" 443 "$https"
    INGRESS_HTTPS_PORT=$https
  fi
}

# port_note VARIABLE VALUE_SET CONTAINER_PORT MAPPED: say when VARIABLE was set to
# something other than what the cluster maps.
port_note() {
  if [ -n "$2" ] && [ "$2" != "$4" ]; then
    log "note: cluster '$CLUSTER_NAME' maps port $3 to 127.0.0.1:$4; $1=$2 applies to a new cluster only (task cluster:delete first)"
  fi
}

# app_url: http://APP_HOST with the HTTP port when it is not 80.
app_url() {
  if [ "$INGRESS_HTTP_PORT" = 80 ]; then
    echo "http://$APP_HOST"
  else
    echo "http://$APP_HOST:$INGRESS_HTTP_PORT"
  fi
}

# pod_problems NAMESPACE SELECTOR: one line per pod with the reasons Kubernetes gives
# (ImagePullBackOff, CrashLoopBackOff, Unschedulable, ...).
pod_problems() {
  kc -n "$1" get pods -l "$2" -o jsonpath='{range .items[*]}{.metadata.name}{" phase="}{.status.phase}{" "}{range .status.containerStatuses[*]}{.state.waiting.reason}{.state.terminated.reason}{" "}{end}{range .status.conditions[?(@.reason=="Unschedulable")]}{.reason}{": "}{.message}{end}{"\n"}{end}' 2>/dev/null || true
}

# explain_pods NAMESPACE SELECTOR WHAT: turn pod_problems into a likely cause and commands.
explain_pods() {
  local ns=$1 sel=$2 what=$3 problems k
  k="kubectl --context $KUBE_CONTEXT -n $ns"
  problems=$(pod_problems "$ns" "$sel")
  if [ -n "$problems" ]; then
    printf '%s\n' "$problems" | sed 's/^/  pod: /' >&2
  else
    printf '  no pod matches %s in namespace %s\n' "$sel" "$ns" >&2
  fi
  case $problems in
  *ErrImagePull* | *ImagePullBackOff* | *ErrImageNeverPull*)
    hint "the image is not on the kind nodes (not loaded, or built with another tag), or a third-party image cannot be pulled (no network?)" \
      "$k describe pods -l $sel | grep -iA3 image" \
      "task build && task load && task deploy"
    ;;
  *CreateContainerConfigError*)
    hint "a ConfigMap or Secret it needs is missing (the credentials Secret is created by 'task deploy')" \
      "$k describe pods -l $sel"
    ;;
  *CrashLoopBackOff* | *Error*)
    hint "$what starts and exits: its log says why" \
      "$k logs -l $sel --tail=50 --previous"
    ;;
  *Unschedulable*)
    hint "no node has room for its CPU/memory requests, or its volume is not bound" \
      "$k describe pods -l $sel" \
      "kubectl --context $KUBE_CONTEXT describe nodes | grep -A8 'Allocated resources'"
    ;;
  '')
    hint "$what was never created (was it deployed?)" "$k get all"
    ;;
  *)
    hint "$what is running but not ready (its readiness probe fails) or still pulling its image; probes that time out on an old kind can be its NetworkPolicy bug (task doctor)" \
      "$k describe pods -l $sel | grep -iE 'probe failed|pulling'" \
      "$k logs -l $sel --tail=50"
    ;;
  esac
}

# relpath FROM TO: the relative path from directory FROM to directory TO (both exist).
# kustomize refuses absolute paths to other kustomizations.
relpath() {
  local from to common up=''
  from=$(cd "$1" && pwd -P)
  to=$(cd "$2" && pwd -P)
  common=$from
  while [ "$common" != / ] && [ "$common" != "$to" ] && [ "${to#"$common"/}" = "$to" ]; do
    common=$(dirname "$common")
    up="../$up"
  done
  if [ "$common" = "$to" ]; then
    printf '%s\n' "${up:-.}"
  elif [ "$common" = / ]; then
    printf '%s%s\n' "$up" "${to#/}"
  else
    printf '%s%s\n' "$up" "${to#"$common"/}"
  fi
}

# poll SECS DESCRIPTION CMD...: run CMD every 2 s until it succeeds or SECS pass.
poll() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$(($(date +%s) + secs))
  while :; do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${secs}s waiting for $what"
      return 1
    fi
    sleep 2
  done
}

# hosts_has IP: HOSTS_FILE has an active line mapping IP to APP_HOST.
hosts_has() {
  [ -r "$HOSTS_FILE" ] || return 1
  awk -v ip="$1" -v host="$APP_HOST" '
    { sub(/#.*/, "") }
    $1 == ip { for (i = 2; i <= NF; i++) if ($i == host) found = 1 }
    END { exit !found }' "$HOSTS_FILE"
}
