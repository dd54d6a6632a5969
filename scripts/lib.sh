# Shared shell helpers for scripts/ and tests/ (sourced, not run).
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this file
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# as_root CMD...: run CMD as root (directly, or through sudo on a laptop).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# as_pg CMD...: run a PostgreSQL server binary; initdb refuses to run as root,
# so root runs it as the postgres user, anybody else as themselves.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# free_port: print a loopback TCP port in no use at all. Below 32768, so that it never lies in
# the kernel's range for outgoing connections (ip_local_port_range), where a busy machine's
# client sockets could take it between this check and the bind.
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % 22000))
    if [ -z "$(ss -tanH "( sport = :$p )" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# port_busy PORT: true when something listens on PORT.
port_busy() { [ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]; }

# wait_http URL SECS [STATUS]: wait until URL answers STATUS (default 200).
wait_http() {
  local url=$1 secs=$2 want=${3:-200} i code
  for i in $(seq 1 $((secs * 10))); do
    code=$(curl -s -o /dev/null -m 1 -w '%{http_code}' "$url" 2>/dev/null || true)
    [ "$code" = "$want" ] && return 0
    sleep 0.1
  done
  return 1
}

# pid_alive PIDFILE: true when PIDFILE names a live process (first line: postmaster.pid has more).
pid_alive() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(head -n 1 "$1")
  [ -n "$pid" ] && running "$pid"
}

# running PID: alive and not a zombie waiting for its parent to reap it.
running() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "${state#Z}" = "$state" ]
}

# stop_pid PID [SECS]: SIGTERM, wait up to SECS, then SIGKILL. Only for processes we started.
stop_pid() {
  local pid=$1 secs=${2:-10} i
  [ -n "$pid" ] && running "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 $((secs * 20))); do
    running "$pid" || return 0
    sleep 0.05
  done
  log "pid $pid did not stop within ${secs}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_pidfile PIDFILE [SECS]
stop_pidfile() {
  [ -f "$1" ] || return 0
  stop_pid "$(head -n 1 "$1")" "${2:-10}"
  rm -f "$1"
}

# pg_start DIR PORT: PostgreSQL listening on 127.0.0.1:PORT with its data in DIR/data,
# user "app" with trust auth for loopback, database "webapp". Creates the cluster once.
pg_start() {
  local dir=$1 port=$2
  [ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (apt-get install postgresql)"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$dir"
    runuser -u postgres -- test -x "$dir" || die "$dir must be traversable by the postgres user"
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U app --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync \
      >"$dir/initdb.log" 2>&1 || {
      cat "$dir/initdb.log" >&2
      die "initdb failed"
    }
  fi
  if pid_alive "$dir/data/postmaster.pid"; then
    return 0
  fi
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null || {
    tail -n 20 "$dir/postgres.log" >&2
    die "PostgreSQL did not start on port $port"
  }
  as_pg "$PGBIN/psql" -h "$dir" -p "$port" -U app -d postgres -qAt \
    -c "SELECT 1 FROM pg_database WHERE datname='webapp'" | grep -q 1 ||
    as_pg "$PGBIN/psql" -h "$dir" -p "$port" -U app -d postgres -qAt -c "CREATE DATABASE webapp" >/dev/null
}

# pg_stop DIR [MODE]: stop the cluster in DIR (MODE fast or immediate), wait until it is gone.
pg_stop() {
  local dir=$1 mode=${2:-fast} pid
  [ -f "$dir/data/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$dir/data/postmaster.pid")
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m "$mode" -w -t 30 stop >/dev/null 2>&1 || stop_pid "$pid" 10
  while running "$pid"; do sleep 0.1; done
}

# redis_start DIR PORT: a cache-only Redis on 127.0.0.1:PORT (no persistence).
redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  pid_alive "$dir/redis.pid" && return 0
  redis-server --bind 127.0.0.1 --port "$port" --save '' --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" >/dev/null
  for _ in $(seq 1 100); do
    redis-cli -h 127.0.0.1 -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "Redis did not start on port $port (see $dir/redis.log)"
}

# redis_stop DIR
redis_stop() { stop_pidfile "$1/redis.pid" 10; }
