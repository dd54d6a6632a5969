#!/usr/bin/env bash
# Remove the demo: the kind cluster (and with it everything deployed) and the generated
# files under .local/k8s. The hosts entry stays (task hosts:remove), as do the images in
# Docker (docker image rm localhost/webapp-backend:TAG ...).
#
#   scripts/k8s/teardown.sh   (task teardown)
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
"$here/cluster.sh" delete
rm -rf "$K8S_STATE_DIR"
if hosts_has 127.0.0.1; then
  log "$HOSTS_FILE still maps $APP_HOST: task hosts:remove takes it out"
fi
log "teardown done"
