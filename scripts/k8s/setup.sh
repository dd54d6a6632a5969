#!/usr/bin/env bash
# The whole demo on kind, in order, from a clean machine:
#   doctor -> cluster -> add-ons -> build -> load -> deploy -> wait -> verify
#
#   scripts/k8s/setup.sh   (task setup)
#
# The add-ons are applied right after the cluster exists, so that their images download
# while ours build. Every step is a script of its own (see the Taskfile); a failed step
# stops the setup with what went wrong and how to look at it. Running it again reuses
# the cluster and rolls out the new build.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
setup_started=$(date +%s)

step() {
  local name=$1 started
  shift
  started=$(date +%s)
  log "== $name"
  "$@"
  log "== $name done ($(($(date +%s) - started))s)"
}

step doctor "$here/doctor.sh"
step "cluster" "$here/cluster.sh" create
step "add-ons" "$here/deploy.sh" addons
step "build images" "$here/build.sh" all
step "load images" "$here/load-images.sh" all
step "deploy" "$here/deploy.sh" app
step "wait" "$here/wait.sh" all
step "verify" "$here/verify.sh"

use_cluster_ports
url=$(app_url)
if [ "$(uname -s)" = Darwin ]; then opener=open; else opener=xdg-open; fi
if hosts_has 127.0.0.1 && hosts_has ::1; then
  hosts_step="task hosts:add         (done: $HOSTS_FILE maps $APP_HOST)"
else
  hosts_step="task hosts:add         (once, before opening the page: $APP_HOST -> 127.0.0.1 and ::1, uses sudo)"
fi
cat <<EOF

The demo is up ($(($(date +%s) - setup_started))s). Images: $BACKEND_IMAGE_NAME:$(image_tag backend), $FRONTEND_IMAGE_NAME:$(image_tag frontend)

  1. Hosts entry  $hosts_step
  2. Open         $opener $url
  3. Scale it     press "Start load" on the page: sustained load for as long as it runs
                  ("Run stress test" sends a single request: too short to move the HPA),
                  or task load:start (in-cluster load for ${LOAD_DURATION_SECONDS:-300}s; task load:stop ends it)
  Watch the HPA   task hpa:watch          (kubectl --context $KUBE_CONTEXT -n $NAMESPACE get hpa backend-hpa -w)
  Everything      task status             Logs: task logs
  Remove it all   task teardown
EOF
