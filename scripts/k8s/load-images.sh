#!/usr/bin/env bash
# Load the built images into every node of the kind cluster.
#
#   scripts/k8s/load-images.sh [backend|frontend|all]   (task load, load:backend, ...)
#
# Loads exactly the tag `task build` recorded (or TAG). With Docker's containerd image
# store, `kind load docker-image` can fail with "content digest ... not found" (kind
# issue 3795): kind saves every platform of the image and the node imports them with
# `ctr images import --all-platforms`, but the image index names attestation manifests
# (and other platforms) whose blobs Docker does not have. A plain `docker save` +
# `kind load image-archive` ends in the same import and fails the same way, so the
# fallback saves the nodes' platform only (`docker image save --platform`, Docker 28+),
# an archive that names nothing missing, and loads that.
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

# node_platform: the kind nodes' platform, which is the Docker engine's (linux/amd64,
# linux/arm64 on Apple silicon).
node_platform() {
  local p
  p=$(docker version --format '{{.Server.Os}}/{{.Server.Arch}}' 2>/dev/null || true)
  case $p in
  linux/?*) echo "$p" ;;
  *) die "cannot read the Docker engine's platform (docker version --format '{{.Server.Os}}/{{.Server.Arch}}')" ;;
  esac
}

# last_error: the last non-empty line of the last command's error output.
last_error() { grep -v '^$' "$tmp/err" | tail -n 1 || true; }

load_one() {
  local ref=$1 started platform
  docker image inspect "$ref" >/dev/null 2>&1 ||
    die "$ref is not in Docker: run 'task build' (the tag recorded by the last build is the one loaded)"
  started=$(date +%s)
  if kind load docker-image "$ref" --name "$CLUSTER_NAME" 2>"$tmp/err"; then
    log "loaded $ref in $(($(date +%s) - started))s"
    return 0
  fi
  log "kind load docker-image failed: $(last_error)"
  platform=$(node_platform)
  log "falling back to docker image save --platform $platform | kind load image-archive"
  if ! docker image save --platform "$platform" -o "$tmp/image.tar" "$ref" 2>"$tmp/err"; then
    log "docker image save --platform $platform failed: $(last_error)"
    hint "Docker older than 28.0 cannot save one platform of an image; or Docker's containerd image store keeps no $platform variant of it" \
      "docker version --format '{{.Server.Version}}'   (upgrade Docker to 28 or newer)" \
      "or turn Docker's containerd image store off: Docker Desktop > Settings > General > 'Use containerd for pulling and storing images'; Linux: \"features\": {\"containerd-snapshotter\": false} in /etc/docker/daemon.json, restart Docker, then task build && task load"
    die "could not load $ref into cluster '$CLUSTER_NAME'"
  fi
  if ! kind load image-archive "$tmp/image.tar" --name "$CLUSTER_NAME"; then
    hint "the nodes could not import the archive (disk full on the Docker VM?)" \
      "docker exec $CLUSTER_NAME-control-plane crictl images" \
      "docker system df"
    die "could not load $ref into cluster '$CLUSTER_NAME'"
  fi
  rm -f "$tmp/image.tar"
  log "loaded $ref ($platform) from an archive in $(($(date +%s) - started))s"
}

for c in $(components "$which"); do
  tag=$(image_tag "$c")
  load_one "$(image_name "$c"):$tag"
done
log "next: task deploy"
