#!/usr/bin/env bash
# Build the backend and frontend container images (`make images`).
#
#   scripts/images.sh [build [backend|frontend|all]]   build the images (default: both)
#   scripts/images.sh base      only prepare the debian:bookworm-slim base (buildah path)
#   scripts/images.sh sizes     print the size of both images
#   scripts/images.sh names     print the two image references
#
# Engine: `docker build` when a Docker engine answers (`docker info`), otherwise
# buildah (daemonless). Force one with IMAGE_ENGINE=docker|buildah.
# Names: localhost/webapp-backend:$TAG and localhost/webapp-frontend:$TAG, where TAG
# comes from the environment, else `git describe --always --dirty`, else "dev".
#
# Without a registry (buildah path), the base image is built once with debootstrap,
# slimmed like the official debian:bookworm-slim, cached as a tarball under
# ${XDG_CACHE_HOME:-$HOME/.cache}/webapp/ and imported as docker.io/library/debian:bookworm-slim.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_REF=docker.io/library/debian:bookworm-slim
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE_DIR=${WEBAPP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/webapp}
BASE_TAR=$CACHE_DIR/debian-$SUITE-slim.tar

image_tag() {
  if [ -n "${TAG:-}" ]; then
    echo "$TAG"
  else
    git -C "$ROOT" describe --always --dirty 2>/dev/null || echo dev
  fi
}
TAG=$(image_tag)
REVISION=${REVISION:-$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)}
SOURCE=${SOURCE:-$(git -C "$ROOT" remote get-url origin 2>/dev/null || echo unknown)}
BACKEND_IMAGE=localhost/webapp-backend:$TAG
FRONTEND_IMAGE=localhost/webapp-frontend:$TAG

engine() {
  case ${IMAGE_ENGINE:-auto} in
  docker | buildah) echo "$IMAGE_ENGINE" ;;
  auto)
    if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
      echo docker
    else
      echo buildah
    fi
    ;;
  *) die "IMAGE_ENGINE must be docker, buildah or auto (got '$IMAGE_ENGINE')" ;;
  esac
}

need() {
  local tool=$1 pkg=$2
  command -v "$tool" >/dev/null 2>&1 ||
    die "$tool not found: install it (apt-get install -y $pkg), or start a Docker engine"
}

# slim_rootfs DIR: what the official debian:*-slim images do to a minbase tree
# (debuerreotype's slimify and minimizing config): no docs, man pages or locales,
# no apt caches or package lists, services never started by package scripts.
slim_rootfs() {
  local r=$1
  # shellcheck disable=SC2016 # expanded by the inner shell
  as_root sh -eu -c '
    r=$1 mirror=$2 secmirror=$3 suite=$4
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<CFG
# Slim image: documentation, man pages and translations are not installed.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
CFG
    cat >"$r/etc/apt/apt.conf.d/docker-clean" <<CFG
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
    echo "Acquire::Languages \"none\";" >"$r/etc/apt/apt.conf.d/docker-no-languages"
    echo "Acquire::GzipIndexes \"true\";" >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo "Apt::AutoRemove::SuggestsImportant \"false\";" >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
    printf "#!/bin/sh\n# Containers do not start services from package scripts.\nexit 101\n" >"$r/usr/sbin/policy-rc.d"
    chmod 755 "$r/usr/sbin/policy-rc.d"
    rm -f "$r/etc/apt/sources.list"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<CFG
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $secmirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
CFG
    find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r/usr/share/groff/"* "$r/usr/share/info/"* "$r/usr/share/linda/"* \
      "$r/usr/share/lintian/overrides/"* "$r/usr/share/locale/"* "$r/usr/share/man/"*
    rm -rf "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"* "$r/var/cache/debconf/"*-old \
      "$r/var/lib/dpkg/"*-old "$r/var/log/"* "$r/tmp/"* "$r/root/.bash_history"
    rm -f "$r/etc/resolv.conf" "$r/etc/hostname"
    : >"$r/etc/machine-id"
  ' sh "$r" "$MIRROR" "$SECURITY_MIRROR" "$SUITE"
}

# base_tarball: debootstrap + slim once, cached outside the repository.
base_tarball() {
  local rootfs
  [ -s "$BASE_TAR" ] && return 0
  need debootstrap debootstrap
  mkdir -p "$CACHE_DIR"
  rootfs=$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")
  log "debootstrap $SUITE (minbase) into $rootfs: once, about a minute"
  if ! as_root debootstrap --variant=minbase "$SUITE" "$rootfs" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE_DIR/debootstrap.log" >&2
    as_root rm -rf "$rootfs"
    die "debootstrap failed (log: $CACHE_DIR/debootstrap.log)"
  fi
  slim_rootfs "$rootfs"
  as_root tar --numeric-owner --xattrs -C "$rootfs" -cf "$BASE_TAR.tmp" .
  as_root chown "$(id -u):$(id -g)" "$BASE_TAR.tmp"
  mv "$BASE_TAR.tmp" "$BASE_TAR"
  as_root rm -rf "$rootfs"
  log "base cached: $BASE_TAR ($(du -h "$BASE_TAR" | cut -f1))"
}

# prepare_base: make debian:bookworm-slim available to buildah without a registry.
prepare_base() {
  need buildah buildah
  need podman podman
  if buildah inspect --type image "$BASE_REF" >/dev/null 2>&1; then
    return 0
  fi
  # A registry that answers gives the official image; here none does, and that fails fast.
  if timeout 120 buildah pull --quiet "$BASE_REF" >/dev/null 2>&1; then
    log "pulled $BASE_REF"
    return 0
  fi
  base_tarball
  log "importing $BASE_TAR as $BASE_REF"
  podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$BASE_TAR" "$BASE_REF" >/dev/null
}

build_one() {
  local eng=$1 dockerfile=$2 image=$3 started
  local args=(-f "$ROOT/$dockerfile" -t "$image"
    --build-arg "VERSION=$TAG" --build-arg "REVISION=$REVISION" --build-arg "SOURCE=$SOURCE")
  [ -n "${BASE_IMAGE:-}" ] && args+=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
  started=$(date +%s)
  log "building $image from $dockerfile with $eng"
  case $eng in
  docker) docker build "${args[@]}" "$ROOT" ;;
  buildah)
    # The Dockerfile's LABELs come from the same build args, but buildah 1.28 reuses a
    # cached LABEL step when only an ARG changed: set the per-build labels at commit.
    buildah bud --isolation chroot --pull=never --layers --format oci \
      --label "org.opencontainers.image.version=$TAG" \
      --label "org.opencontainers.image.revision=$REVISION" \
      --label "org.opencontainers.image.source=$SOURCE" \
      ${BUILDAH_QUIET:+--quiet} "${args[@]}" "$ROOT"
    ;;
  esac
  log "built $image in $(($(date +%s) - started))s"
}

image_size() { # bytes
  case $1 in
  docker) docker image inspect --format '{{.Size}}' "$2" ;;
  buildah) podman image inspect --format '{{.Size}}' "$2" ;;
  esac
}

sizes() {
  local eng=$1 img bytes
  for img in "$BACKEND_IMAGE" "$FRONTEND_IMAGE"; do
    if bytes=$(image_size "$eng" "$img" 2>/dev/null); then
      printf '%-40s %6.1f MB\n' "$img" "$(echo "$bytes" | awk '{print $1 / 1000000}')"
    else
      printf '%-40s %s\n' "$img" "not built"
    fi
  done
}

main() {
  local cmd=${1:-build} which=${2:-all} eng
  eng=$(engine)
  case $cmd in
  names) echo "$BACKEND_IMAGE" && echo "$FRONTEND_IMAGE" ;;
  base) if [ "$eng" = buildah ]; then prepare_base; fi ;;
  sizes) sizes "$eng" ;;
  build)
    case $which in
    backend | frontend | all) ;;
    *) die "usage: $0 build [backend|frontend|all]" ;;
    esac
    if [ "$eng" = buildah ]; then prepare_base; fi
    if [ "$which" != frontend ]; then build_one "$eng" docker/backend.Dockerfile "$BACKEND_IMAGE"; fi
    if [ "$which" != backend ]; then build_one "$eng" docker/frontend.Dockerfile "$FRONTEND_IMAGE"; fi
    sizes "$eng"
    ;;
  *) die "usage: $0 [build [backend|frontend|all]|base|sizes|names]" ;;
  esac
}

main "$@"
