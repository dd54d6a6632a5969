#!/usr/bin/env bash
# The webapp.local entry in the hosts file (Linux and macOS), for the browser.
#
#   scripts/k8s/hosts.sh add      (task hosts:add)    127.0.0.1 and ::1 -> webapp.local
#   scripts/k8s/hosts.sh remove   (task hosts:remove) only the lines this script added
#   scripts/k8s/hosts.sh check    exit 0 when both entries exist
#
# Both address families: on macOS a .local name missing its IPv6 entry is looked up with
# mDNS first, which costs seconds per request. Uses sudo when the file is not writable.
# HOSTS_FILE (default /etc/hosts) and APP_HOST (default webapp.local) can be overridden.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MARK="# added by webapp task hosts:add"

# write_hosts FILE: replace HOSTS_FILE's content with FILE's (same inode, same mode).
write_hosts() {
  if [ -w "$HOSTS_FILE" ]; then
    cat "$1" >"$HOSTS_FILE"
  else
    log "sudo is needed to change $HOSTS_FILE"
    # shellcheck disable=SC2016 # expanded by the inner shell
    as_root sh -c 'cat "$1" > "$2"' sh "$1" "$HOSTS_FILE"
  fi
}

flush_cache() {
  if [ "$(uname -s)" = Darwin ]; then
    as_root dscacheutil -flushcache || true
  fi
}

add() {
  local tmp
  if hosts_has 127.0.0.1 && hosts_has ::1; then
    log "$HOSTS_FILE already maps $APP_HOST to 127.0.0.1 and ::1"
    return 0
  fi
  tmp=$(mktemp "${TMPDIR:-/tmp}/webapp-hosts.XXXXXX")
  cat "$HOSTS_FILE" >"$tmp"
  # A file that does not end with a newline would glue our line onto its last one.
  if [ -s "$tmp" ] && [ "$(tail -c 1 "$tmp" | od -An -c | tr -d ' ')" != '\n' ]; then
    echo >>"$tmp"
  fi
  hosts_has 127.0.0.1 || printf '127.0.0.1 %s %s\n' "$APP_HOST" "$MARK" >>"$tmp"
  hosts_has ::1 || printf '::1 %s %s\n' "$APP_HOST" "$MARK" >>"$tmp"
  write_hosts "$tmp"
  rm -f "$tmp"
  flush_cache
  use_cluster_ports
  log "added $APP_HOST to $HOSTS_FILE (127.0.0.1 and ::1): open $(app_url)"
}

remove() {
  local tmp
  if ! grep -qF "$MARK" "$HOSTS_FILE" 2>/dev/null; then
    log "$HOSTS_FILE has no line added by hosts:add: nothing to remove"
    return 0
  fi
  tmp=$(mktemp "${TMPDIR:-/tmp}/webapp-hosts.XXXXXX")
  grep -vF "$MARK" "$HOSTS_FILE" >"$tmp" || true
  write_hosts "$tmp"
  rm -f "$tmp"
  flush_cache
  log "removed the $APP_HOST lines added by hosts:add from $HOSTS_FILE"
}

case ${1:-} in
add) add ;;
remove) remove ;;
check) hosts_has 127.0.0.1 && hosts_has ::1 ;;
*) die "usage: $0 add|remove|check" ;;
esac
