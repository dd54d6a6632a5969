#!/usr/bin/env bash
# Build the images for the cluster with Docker, with one tag for this build.
#
#   scripts/k8s/build.sh [backend|frontend|all]   (task build, build:backend, build:frontend)
#
# The tag is TAG from the environment, else `git describe --tags --always --dirty` (plus a
# timestamp when the tree is dirty, so that changed code always gets a new tag). It is
# recorded under .local/k8s/, and `task load` / `task deploy` use exactly that tag.
# The images themselves are built by scripts/images.sh (`make images`), the same build
# the test suite proves.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

which=${1:-all}
components "$which" >/dev/null
need_cmd docker "install Docker: https://docs.docker.com/get-docker/"
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (start Docker; 'task doctor' checks everything)"

tag=${TAG:-$(compute_tag)}
valid_tag "$tag" || die "invalid image tag '$tag' (letters, digits, '_', '.', '-'; at most 128)"

started=$(date +%s)
log "building $which with tag $tag"
# kind loads images from Docker, so build with Docker even where buildah exists. Without
# attestations: BuildKit otherwise adds a provenance manifest to the image index, the kind
# of entry that makes `kind load` fail with Docker's containerd image store (see
# load-images.sh); the demo's images do not need it.
BUILDX_NO_DEFAULT_ATTESTATIONS=1 TAG=$tag IMAGE_ENGINE=docker "$ROOT/scripts/images.sh" build "$which"

mkdir -p "$K8S_STATE_DIR"
for c in $(components "$which"); do
  ref=$(image_name "$c"):$tag
  docker image inspect "$ref" >/dev/null 2>&1 ||
    die "the build did not produce $ref (scripts/images.sh must honour TAG)"
  printf '%s\n' "$tag" >"$K8S_STATE_DIR/tag-$c"
  log "built $ref"
done
log "build done in $(($(date +%s) - started))s; next: task load"
