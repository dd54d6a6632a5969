#!/bin/sh
# Render nginx.conf.template to stdout from environment variables.
#
#   BACKEND_URL             http://host[:port] of the backend   (default http://backend-service:8080)
#   AUTOSCALER_URL          http://host[:port] of autoscaler-view, for /api/autoscaler
#                           (default empty: /api/autoscaler answers a JSON 503 "not configured")
#   LISTEN_PORT             port nginx listens on               (default 8080)
#   LISTEN_ADDRESS          address to listen on, empty = all   (default empty)
#   SITE_ROOT               directory holding index.html        (default: ../public next to this script)
#   NGINX_ACCESS_LOG        access log file                     (default /dev/stdout)
#   NGINX_ERROR_LOG         error log file or "stderr"          (default stderr)
#   NGINX_WORKER_PROCESSES  number or "auto"                    (default auto)
#
# Usage: render.sh [TEMPLATE] > nginx.conf
# Then:  nginx -p PREFIX/ -c nginx.conf -e stderr   (PREFIX writable: pid and temp files go there)
#
# POSIX sh and sed only, so the same script renders the config in a minimal container image.
# Every value is validated: nothing from the environment can add nginx directives.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
template=${1:-$here/nginx.conf.template}

fail() {
  echo "render.sh: $*" >&2
  exit 2
}

[ -r "$template" ] || fail "template not readable: $template"

backend_url=${BACKEND_URL:-http://backend-service:8080}
autoscaler_url=${AUTOSCALER_URL:-}
listen_port=${LISTEN_PORT:-8080}
listen_address=${LISTEN_ADDRESS:-}
site_root=${SITE_ROOT:-$here/../public}
access_log=${NGINX_ACCESS_LOG:-/dev/stdout}
error_log=${NGINX_ERROR_LOG:-stderr}
workers=${NGINX_WORKER_PROCESSES:-auto}

# upstream_server NAME URL: "host:port" for nginx's `server` from http://HOST[:PORT][/], with HOST
# a DNS name, IPv4 address or [IPv6] literal. No path: nginx passes the request path unchanged.
upstream_server() {
  name=$1
  url=$2
  case $url in
    http://*) hostport=${url#http://} ;;
    *) fail "$name must start with http:// (got '$url')" ;;
  esac
  hostport=${hostport%/}
  case $hostport in
    '' | */* | *[!A-Za-z0-9.:\[\]-]*) fail "$name must be http://host[:port] without a path (got '$url')" ;;
  esac
  case $hostport in
    \[*\]) server="$hostport:80" ;;
    \[*\]:*) server=$hostport ;;
    *:*:*) fail "$name: write an IPv6 address in brackets (got '$url')" ;;
    *:*) server=$hostport ;;
    *) server="$hostport:80" ;;
  esac
  port=${server##*:}
  case $port in
    '' | *[!0-9]*) fail "$name has an invalid port (got '$url')" ;;
  esac
  if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then fail "$name port out of range (got '$url')"; fi
  printf '%s\n' "$server"
}

backend_server=$(upstream_server BACKEND_URL "$backend_url")
if [ -n "$autoscaler_url" ]; then
  autoscaler_server=$(upstream_server AUTOSCALER_URL "$autoscaler_url")
  autoscaler_route='proxy_pass http://autoscaler_view;'
else
  autoscaler_server='127.0.0.1:9 down'
  # shellcheck disable=SC2016 # $req_id is nginx's variable
  autoscaler_route='return 503 '"'"'{"error":"autoscaler view not configured: AUTOSCALER_URL is not set, so the autoscaler-view component is not running here","request_id":"$req_id"}'"'"';'
fi

case $listen_port in
  '' | *[!0-9]*) fail "LISTEN_PORT must be a number (got '$listen_port')" ;;
esac
if [ "$listen_port" -lt 1 ] || [ "$listen_port" -gt 65535 ]; then fail "LISTEN_PORT out of range (got '$listen_port')"; fi
case $listen_address in
  *[!A-Za-z0-9.:\[\]-]*) fail "LISTEN_ADDRESS is not an address (got '$listen_address')" ;;
esac
if [ -n "$listen_address" ]; then
  listen="$listen_address:$listen_port"
else
  listen=$listen_port
fi

case $workers in
  auto) ;;
  '' | *[!0-9]*) fail "NGINX_WORKER_PROCESSES must be a number or auto (got '$workers')" ;;
esac

[ -f "$site_root/index.html" ] || fail "SITE_ROOT has no index.html (got '$site_root')"
site_root=$(cd "$site_root" && pwd)
for v in "$site_root" "$access_log" "$error_log"; do
  case $v in
    '' | *[!A-Za-z0-9._/-]*) fail "paths may only use [A-Za-z0-9._/-] (got '$v')" ;;
  esac
done

# The values above hold no sed metacharacters ('|', '&', '\', newline): safe as replacements.
out=$(sed \
  -e "s|\${BACKEND_SERVER}|$backend_server|g" \
  -e "s|\${AUTOSCALER_SERVER}|$autoscaler_server|g" \
  -e "s|\${AUTOSCALER_ROUTE}|$autoscaler_route|g" \
  -e "s|\${NGINX_LISTEN}|$listen|g" \
  -e "s|\${SITE_ROOT}|$site_root|g" \
  -e "s|\${NGINX_ACCESS_LOG}|$access_log|g" \
  -e "s|\${NGINX_ERROR_LOG}|$error_log|g" \
  -e "s|\${NGINX_WORKER_PROCESSES}|$workers|g" \
  "$template")

# Comments may mention ${PLACEHOLDERS}; directives must not keep any.
# shellcheck disable=SC2016 # a literal ${ in the pattern
left=$(printf '%s\n' "$out" | sed -e 's/#.*//' | grep -o '\${[A-Z_]*}' || true)
[ -z "$left" ] || fail "unreplaced placeholders: $left"
printf '%s\n' "$out"
