#!/bin/sh
# Frontend container entrypoint: render the nginx configuration from the environment
# (BACKEND_URL, LISTEN_PORT, ...: see frontend/nginx/render.sh) into NGINX_PREFIX, then
# run nginx in the foreground as PID 1 so that it receives the stop signal itself.
# Everything nginx writes (config, pid, temp files) stays under NGINX_PREFIX.
set -eu

prefix=${NGINX_PREFIX:-/tmp/nginx}
case $prefix in
  /*) ;;
  *) echo "frontend-entrypoint: NGINX_PREFIX must be an absolute path (got '$prefix')" >&2; exit 2 ;;
esac

mkdir -p "$prefix"
sh /usr/share/webapp/nginx/render.sh /usr/share/webapp/nginx/nginx.conf.template >"$prefix/nginx.conf.tmp"
mv "$prefix/nginx.conf.tmp" "$prefix/nginx.conf"

# Arguments replace the default command, e.g. `-t` to test the configuration only.
if [ "$#" -gt 0 ]; then
  exec nginx -p "$prefix/" -c "$prefix/nginx.conf" -e stderr "$@"
fi
exec nginx -p "$prefix/" -c "$prefix/nginx.conf" -e stderr -g 'daemon off;'
