#!/usr/bin/env bash
# Load the built images into every node of the kind cluster.
#
#   scripts/k8s/load-images.sh [backend|frontend|all]   (task load, load:backend, ...)
#
# Loads exactly the tag `task build` recorded (or TAG). With Docker's containerd image
# store, `kind load docker-image` can fail with "content digest ... not found"; the
# fallback saves the image to an archive and loads that (`kind load image-archive`).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

which=${1:-all}
components "$which" >/dev/null
need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
need_cmd docker "install Docker: https://docs.docker.com/get-docker/"
require_cluster

tmp=$(mktemp -d "${TMPDIR:-/tmp}/webapp-load.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

load_one() {
  local ref=$1 started
  docker image inspect "$ref" >/dev/null 2>&1 ||
    die "$ref is not in Docker: run 'task build' (the tag recorded by the last build is the one loaded)"
  started=$(date +%s)
  if kind load docker-image "$ref" --name "$CLUSTER_NAME" 2>"$tmp/err"; then
    log "loaded $ref in $(($(date +%s) - started))s"
    return 0
  fi
  log "kind load docker-image failed: $(grep -v '^$' "$tmp/err" | tail -n 1)"
  log "falling back to docker save | kind load image-archive"
  docker save -o "$tmp/image.tar" "$ref" || die "docker save $ref failed"
  if ! kind load image-archive "$tmp/image.tar" --name "$CLUSTER_NAME"; then
    hint "the nodes could not import the archive (disk full on the Docker VM?)" \
      "docker exec $CLUSTER_NAME-control-plane crictl images" \
      "docker system df"
    die "could not load $ref into cluster '$CLUSTER_NAME'"
  fi
  rm -f "$tmp/image.tar"
  log "loaded $ref from an archive in $(($(date +%s) - started))s"
}

for c in $(components "$which"); do
  tag=$(image_tag "$c")
  load_one "$(image_name "$c"):$tag"
done
log "next: task deploy"
