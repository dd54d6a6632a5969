#!/usr/bin/env bash
# Is this machine ready for `task setup`? Checks everything first, then lists every
# problem with its fix, and exits 1 when one of them would make the setup fail.
#
#   scripts/k8s/doctor.sh          (task doctor)
#
# Needs: a running Docker engine, kind >= 0.27 (NetworkPolicy support in kindnet; `kind
# load` into the pinned node image's containerd 2),
# kubectl >= 1.27 (kustomize v5), free ports 80/443 (INGRESS_HTTP_PORT/INGRESS_HTTPS_PORT)
# unless the cluster already holds them. Advises: go-task, the webapp.local hosts entry.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# kind reads the node's containerd config to load images: before 0.27 it cannot read the
# containerd 2 config of the pinned node image (k8s/kind/cluster.yaml).
MIN_KIND=0.27.0
# The pinned node image was published with kind 0.30 (a node image is supported with the
# kind that published it); older kindnet releases also had NetworkPolicy bugs that hit
# this demo (DNS lookups timing out, kind issue 3713; kubelet probes blocked under a
# default-deny policy, kind issue 3875).
GOOD_KIND=0.30.0
MIN_KUBECTL=1.27.0
problems=0
warnings=0

ok() { printf '  ok    %s\n' "$*" >&2; }
bad() {
  printf '  FAIL  %s\n' "$1" >&2
  shift
  local l
  for l in "$@"; do printf '        %s\n' "$l" >&2; done
  problems=$((problems + 1))
}
warn() {
  printf '  warn  %s\n' "$1" >&2
  shift
  local l
  for l in "$@"; do printf '        %s\n' "$l" >&2; done
  warnings=$((warnings + 1))
}

# version_ge A B: true when dotted version A >= B (numeric fields, at most 3).
version_ge() {
  local a1 a2 a3 b1 b2 b3
  IFS=. read -r a1 a2 a3 <<EOF
$1
EOF
  IFS=. read -r b1 b2 b3 <<EOF
$2
EOF
  a1=${a1:-0} a2=${a2:-0} a3=${a3:-0} b1=${b1:-0} b2=${b2:-0} b3=${b3:-0}
  [ "$a1" -gt "$b1" ] && return 0
  [ "$a1" -lt "$b1" ] && return 1
  [ "$a2" -gt "$b2" ] && return 0
  [ "$a2" -lt "$b2" ] && return 1
  [ "$a3" -ge "$b3" ]
}

# first_version TEXT: the first x.y.z in TEXT.
first_version() {
  printf '%s\n' "$1" | grep -Eo '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1
}

os=$(uname -s)
log "checking this machine ($os) for the kind demo"

# Docker engine
if ! command -v docker >/dev/null 2>&1; then
  bad "docker not found" "install Docker Desktop (macOS) or Docker Engine (Linux): https://docs.docker.com/get-docker/"
elif ! docker info >/dev/null 2>&1; then
  bad "Docker is installed but the engine does not answer (docker info fails)" \
    "start Docker Desktop, or on Linux: sudo systemctl start docker" \
    "no permission? add yourself to the docker group: sudo usermod -aG docker \$USER (then log in again)"
else
  ok "docker engine running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
fi

# kind
if ! command -v kind >/dev/null 2>&1; then
  bad "kind not found" "install kind >= $MIN_KIND: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
else
  v=$(first_version "$(kind version 2>/dev/null || true)")
  if [ -z "$v" ]; then
    warn "could not read the kind version ('kind version')"
  elif version_ge "$v" "$GOOD_KIND"; then
    ok "kind $v"
  elif version_ge "$v" "$MIN_KIND"; then
    warn "kind $v works, but the pinned node image was published with kind $GOOD_KIND, and older kind had NetworkPolicy bugs that can block DNS or probes" \
      "upgrade to kind >= $GOOD_KIND: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  else
    bad "kind $v is too old (need >= $MIN_KIND: it cannot load images into the pinned node image's containerd 2)" \
      "upgrade kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
  fi
fi

# kubectl
if ! command -v kubectl >/dev/null 2>&1; then
  bad "kubectl not found" "install kubectl >= $MIN_KUBECTL: https://kubernetes.io/docs/tasks/tools/"
else
  v=$(first_version "$(kubectl version --client 2>/dev/null || true)")
  if [ -z "$v" ]; then
    warn "could not read the kubectl version ('kubectl version --client')"
  elif version_ge "$v" "$MIN_KUBECTL"; then
    ok "kubectl $v"
  else
    bad "kubectl $v is too old (need >= $MIN_KUBECTL for kustomize v5 and server-side apply)" \
      "upgrade kubectl: https://kubernetes.io/docs/tasks/tools/"
  fi
fi

# go-task (the scripts work without it; the documented commands use it)
if command -v task >/dev/null 2>&1; then
  ok "task $(first_version "$(task --version 2>/dev/null || true)")"
else
  warn "go-task (task) not found: the scripts still work (scripts/k8s/setup.sh)" \
    "install it: https://taskfile.dev/installation/"
fi

# Ports 80/443: free, or already held by this cluster's node (then its own mapping counts).
cluster_holds_ports=false
if command -v kind >/dev/null 2>&1 && cluster_exists; then
  cluster_holds_ports=true
  use_cluster_ports
fi
for p in "$INGRESS_HTTP_PORT" "$INGRESS_HTTPS_PORT"; do
  if $cluster_holds_ports; then
    ok "port $p: cluster $CLUSTER_NAME exists and maps it"
  elif port_in_use "$p"; then
    if [ "$os" = Darwin ]; then
      who="sudo lsof -nP -iTCP:$p -sTCP:LISTEN"
    else
      who="sudo ss -ltnp 'sport = :$p'"
    fi
    bad "port $p is in use on this machine: kind cannot map the ingress to it" \
      "see what holds it: $who" \
      "stop it, or use other ports: INGRESS_HTTP_PORT=8080 INGRESS_HTTPS_PORT=8443 task setup"
  else
    ok "port $p free"
  fi
done

# inotify limits: several kind nodes on Linux exhaust the defaults ("too many open files").
if [ "$os" = Linux ] && [ -r /proc/sys/fs/inotify/max_user_instances ]; then
  inst=$(cat /proc/sys/fs/inotify/max_user_instances)
  if [ "$inst" -lt 512 ]; then
    warn "fs.inotify.max_user_instances is $inst: kind nodes may fail with 'too many open files'" \
      "sudo sysctl fs.inotify.max_user_instances=512 fs.inotify.max_user_watches=524288"
  fi
fi

# The hosts entry: both families, or macOS spends seconds asking mDNS for the .local name.
if hosts_has 127.0.0.1 && hosts_has ::1; then
  ok "$HOSTS_FILE maps $APP_HOST to 127.0.0.1 and ::1"
else
  warn "$HOSTS_FILE lacks '127.0.0.1 $APP_HOST' and/or '::1 $APP_HOST' (the browser needs both)" \
    "task hosts:add   (the setup itself does not need it: it tests with curl --resolve)"
fi

if [ "$problems" -gt 0 ]; then
  log "doctor: $problems problem(s), $warnings warning(s): fix the FAIL lines above, then run 'task setup' again"
  exit 1
fi
log "doctor: ready ($warnings warning(s))"
