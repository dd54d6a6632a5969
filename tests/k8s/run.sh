#!/usr/bin/env bash
# Offline verification of the Kubernetes path (k8s/, Taskfile.yaml, scripts/k8s):
#   manifests.test.mjs  schemas (unknown fields included), kustomizations, conventions,
#                       add-ons and kind config, yamllint, shellcheck
#   policy.test.mjs     wiring, hardening, pinned images, the real backend's settings,
#                       routes, probes and drain, NetworkPolicy flows
#   components.test.mjs Redis with the Deployment's arguments and probe; the load
#                       generator's script under busybox against the real backend
#   taskfile.test.mjs   every task, and `task setup` step by step against stand-in
#                       docker/kind/kubectl/curl that record their calls
#   sizing.test.mjs     load -> backend pods from the rendered requests, limits, slots and
#                       HPA, against the page's sizing.js and docs/kubernetes.md
# No cluster is needed (none can run here). About 45 s on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
started=$(date +%s)

missing=''
for tool in node shellcheck yamllint make redis-server redis-cli busybox; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
  echo "tests/k8s: missing:$missing (apt-get install -y nodejs shellcheck yamllint make redis-server busybox)" >&2
  exit 1
fi
for mod in yaml kubernetes-models @kubernetes/client-node; do
  if [ ! -d "node_modules/$mod" ]; then
    echo "tests/k8s: node module $mod missing: run 'npm ci' in $ROOT" >&2
    exit 1
  fi
done
if ! command -v kubectl >/dev/null 2>&1; then
  echo "tests/k8s: kubectl not found: manifests are rendered by tests/k8s/lib/kustomize.mjs only," >&2
  echo "           the cross-check against kubectl kustomize is reported as skipped" >&2
fi

# The ConfigMap is checked against the variables the real backend reads (backend --help),
# its routes (--routes), and a running instance: build it when needed.
export BACKEND_BIN=${BACKEND_BIN:-$ROOT/backend/build/release/backend}
if [ "$BACKEND_BIN" = "$ROOT/backend/build/release/backend" ]; then
  make -C backend >/dev/null || {
    echo "tests/k8s: 'make -C backend' failed" >&2
    exit 1
  }
fi
[ -x "$BACKEND_BIN" ] || {
  echo "tests/k8s: backend binary $BACKEND_BIN not found" >&2
  exit 1
}

status=0
node --test --test-concurrency=4 --test-reporter=spec \
  tests/k8s/manifests.test.mjs tests/k8s/policy.test.mjs tests/k8s/components.test.mjs \
  tests/k8s/taskfile.test.mjs tests/k8s/sizing.test.mjs || status=$?
echo "tests/k8s: finished in $(($(date +%s) - started))s (exit $status)"
exit "$status"
