#!/usr/bin/env bash
# Apply the cluster add-ons and the application.
#
#   scripts/k8s/deploy.sh [all]     add-ons + application             (task deploy, deploy:all)
#   scripts/k8s/deploy.sh addons    Contour and metrics-server        (task deploy:addons)
#   scripts/k8s/deploy.sh app       the application only              (task deploy:app)
#   scripts/k8s/deploy.sh postgres|redis|backend|frontend|ingress|network
#                                   one part of the application       (task deploy:<part>)
#
# The application is k8s/ rendered through an overlay generated under .local/k8s/deploy
# that sets the image tags `task build` recorded (the ones `task load` put on the nodes).
# The Secret webapp-credentials is created once per cluster with random passwords and is
# never written to disk; later deploys keep it (PostgreSQL was initialised with it).
# The overlay also narrows autoscaler-view's egress to the API server's own addresses (the
# `kubernetes` Service's ClusterIP and its EndpointSlice), each a /32, when the cluster
# reports them; otherwise the base's kind-wide blocks stay (with a warning).
# Add-ons: the pinned upstream manifest is downloaded once into .local/k8s/addons/NAME
# (ADDON_MANIFEST_DIR=DIR uses DIR/NAME.yaml instead, e.g. an offline copy), patched by
# k8s/addons/NAME, and applied server-side.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ADDONS="contour metrics-server"

# render_addon NAME: k8s/addons/NAME with its remote resource replaced by a local copy,
# in .local/k8s/addons/NAME.
render_addon() {
  local name=$1 src=$K8S_DIR/addons/$1 dir=$K8S_STATE_DIR/addons/$1 url
  url=$(awk '/^[[:space:]]*- https:\/\// { print $2; exit }' "$src/kustomization.yaml")
  [ -n "$url" ] || die "$src/kustomization.yaml names no https:// resource"
  mkdir -p "$dir"
  cp "$src"/*.yaml "$dir/"
  if [ -n "${ADDON_MANIFEST_DIR:-}" ]; then
    cp "$ADDON_MANIFEST_DIR/$name.yaml" "$dir/upstream.yaml" ||
      die "no offline manifest $ADDON_MANIFEST_DIR/$name.yaml"
  elif [ ! -s "$dir/upstream.yaml" ] || [ "$(cat "$dir/upstream.url" 2>/dev/null)" != "$url" ]; then
    log "downloading $url"
    curl -fsSL --retry 3 --connect-timeout 10 --max-time 120 -o "$dir/upstream.yaml.tmp" "$url" ||
      die "could not download $url (no network? a proxy?)"
    mv "$dir/upstream.yaml.tmp" "$dir/upstream.yaml"
    printf '%s\n' "$url" >"$dir/upstream.url"
  fi
  awk -v url="$url" '$1 == "-" && $2 == url { sub(/- .*/, "- upstream.yaml") } { print }' \
    "$src/kustomization.yaml" >"$dir/kustomization.yaml"
}

deploy_addons() {
  local name dir
  for name in $ADDONS; do
    render_addon "$name"
    dir=$K8S_STATE_DIR/addons/$name
    log "applying add-on $name"
    kc apply --server-side --force-conflicts --field-manager=webapp-setup -k "$dir" >/dev/null ||
      die "applying $name failed (see the error above)"
  done
}

# random_password: 32 characters from [A-Za-z0-9] (about 190 bits).
random_password() {
  head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | cut -c1-32
}

ensure_secret() {
  local found
  found=$(kn get secret "$CREDENTIALS_SECRET" -o name --ignore-not-found) ||
    die "cannot reach the cluster's API (kubectl --context $KUBE_CONTEXT get nodes)"
  if [ -n "$found" ]; then
    log "secret $CREDENTIALS_SECRET exists: keeping its passwords"
    return 0
  fi
  log "creating secret $CREDENTIALS_SECRET with random passwords"
  # On stdin, not on a command line; `create` never overwrites an existing Secret.
  kn create -f - >/dev/null <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: $CREDENTIALS_SECRET
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/name: webapp
    app.kubernetes.io/component: credentials
    app.kubernetes.io/part-of: webapp
type: Opaque
stringData:
  db-password: $(random_password)
  redis-password: $(random_password)
EOF
}

# api_server_addresses: the IPv4 addresses of the API server as pods reach it, one a line:
# the `kubernetes` Service's ClusterIP, then its endpoints. Nothing when they cannot be read.
api_server_addresses() {
  local out
  out=$({
    kc -n default get service kubernetes -o jsonpath='{.spec.clusterIP}' 2>/dev/null || true
    echo
    kc -n default get endpointslices -l kubernetes.io/service-name=kubernetes \
      -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{"\n"}{end}' 2>/dev/null || true
  })
  printf '%s\n' "$out" | grep -E '^([0-9]{1,3}\.){3}[0-9]{1,3}$' | sort -u || true
}

# api_server_patch: the kustomize patch that replaces the view's egress blocks, or nothing.
api_server_patch() {
  local addrs a
  addrs=$(api_server_addresses)
  if [ -z "$addrs" ]; then
    log "warning: could not read the API server's addresses; autoscaler-view keeps the base egress blocks"
    return 0
  fi
  log "autoscaler-view may reach the API server at: $(echo "$addrs" | tr '\n' ' ')"
  echo "patches:"
  echo "  - target:"
  echo "      kind: NetworkPolicy"
  echo "      name: autoscaler-view"
  echo "    patch: |-"
  echo "      apiVersion: networking.k8s.io/v1"
  echo "      kind: NetworkPolicy"
  echo "      metadata:"
  echo "        name: autoscaler-view"
  echo "      spec:"
  echo "        egress:"
  echo "          - to:"
  for a in $addrs; do
    echo "              - ipBlock:"
    echo "                  cidr: $a/32"
  done
  echo "            ports:"
  echo "              - port: 443"
  echo "                protocol: TCP"
  echo "              - port: 6443"
  echo "                protocol: TCP"
}

# render_app PART: the overlay that pins the image tags, in .local/k8s/deploy.
render_app() {
  local part=$1 dir=$K8S_STATE_DIR/deploy c t images=''
  mkdir -p "$dir"
  for c in backend frontend; do
    case $part in
    all | app | "$c") t=$(image_tag "$c") ;;
    *) t=$(TAG='' image_tag "$c" 2>/dev/null || true) ;; # other parts: whatever was built
    esac
    if [ -n "$t" ]; then
      images="$images  - name: $(image_name "$c")
    newTag: \"$t\"
"
    fi
  done
  {
    echo "# Generated by scripts/k8s/deploy.sh: k8s/ with the image tags built and loaded last."
    echo "apiVersion: kustomize.config.k8s.io/v1beta1"
    echo "kind: Kustomization"
    echo "resources:"
    echo "  - $(relpath "$dir" "$K8S_DIR")"
    if [ -n "$images" ]; then
      echo "images:"
      printf '%s' "$images"
    fi
    api_server_patch
  } >"$dir/kustomization.yaml"
}

deploy_app() {
  local part=$1 dir sel=''
  case $part in
  all | app) ;;
  postgres | redis | backend | frontend) sel=app.kubernetes.io/name=$part ;;
  ingress) sel=app.kubernetes.io/component=ingress ;;
  network) sel=app.kubernetes.io/component=network-policy ;;
  *) die "unknown part '$part' (all, addons, app, postgres, redis, backend, frontend, ingress, network)" ;;
  esac
  render_app "$part"
  dir=$K8S_STATE_DIR/deploy
  kc apply -f "$K8S_DIR/base/webapp-namespace.yaml" >/dev/null
  ensure_secret
  case $part in
  all | app | backend) log "backend image:  $BACKEND_IMAGE_NAME:$(image_tag backend)" ;;
  esac
  case $part in
  all | app | frontend) log "frontend image: $FRONTEND_IMAGE_NAME:$(image_tag frontend)" ;;
  esac
  if [ -n "$sel" ]; then
    log "applying the $part part of the application"
    kc apply -k "$dir" -l "$sel"
  else
    log "applying the application"
    kc apply -k "$dir"
  fi
}

part=${1:-all}
need_cmd kubectl "install kubectl: https://kubernetes.io/docs/tasks/tools/"
need_cmd kind "install kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation"
require_cluster
case $part in
all)
  deploy_addons
  deploy_app all
  ;;
addons) deploy_addons ;;
*) deploy_app "$part" ;;
esac
log "applied; next: task wait (or task status)"
