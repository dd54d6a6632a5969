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

# free_port: print a loopback TCP port in no use at all. Below the kernel's range for outgoing
# connections (ip_local_port_range), where a busy machine's client sockets could take it between
# this check and the bind.
free_port() {
  local low _high p
  read -r low _high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "$low" -gt 11000 ] || low=32768
  for _ in $(seq 1 200); do
    p=$((10000 + RANDOM % (low - 10000)))
    if [ -z "$(ss -tanH "( sport = :$p )" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# free_ports N: N different free ports (free_port), one a line.
free_ports() {
  local ports=() p
  while [ ${#ports[@]} -lt "$1" ]; do
    p=$(free_port) || return 1
    case " ${ports[*]} " in *" $p "*) continue ;; esac
    ports+=("$p")
  done
  printf '%s\n' "${ports[@]}"
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
    require_access postgres "PostgreSQL" "$dir"
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

# redis_start DIR PORT [PASSWORD]: a cache-only Redis on 127.0.0.1:PORT (no persistence), from
# DIR/redis.conf (mode 600: a password stays off command lines); `redis-server DIR/redis.conf`
# starts it again the same way.
redis_start() {
  local dir=$1 port=$2 password=${3:-} auth=()
  [ -z "$password" ] || auth=(env "REDISCLI_AUTH=$password")
  mkdir -p "$dir"
  pid_alive "$dir/redis.pid" && return 0
  (umask 077 && cat >"$dir/redis.conf" <<CONF
bind 127.0.0.1
port $port
save ""
appendonly no
daemonize yes
pidfile $dir/redis.pid
logfile $dir/redis.log
dir $dir
${password:+requirepass $password}
CONF
  )
  redis-server "$dir/redis.conf" >/dev/null
  for _ in $(seq 1 100); do
    "${auth[@]}" redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  die "Redis did not start on port $port (see $dir/redis.log)"
}

# redis_stop DIR
redis_stop() { stop_pidfile "$1/redis.pid" 10; }

# ---- who may read what ------------------------------------------------------------------------
# As root, the stack does not run as root: PostgreSQL runs as the postgres user (its data under
# .local/ for `make up`) and nginx's workers as nobody (they read frontend/public). Both must be
# able to reach the checkout. As anybody else, everything runs as that user.

# blocked_at USER PATH: the first directory on the way to PATH that USER cannot enter (PATH
# itself when USER can enter every directory but cannot read PATH).
blocked_at() {
  local user=$1 path=$2 p='' part parts
  IFS=/ read -ra parts <<<"${path#/}"
  for part in "${parts[@]}"; do
    p=$p/$part
    [ -d "$p" ] || break
    runuser -u "$user" -- test -x "$p" 2>/dev/null || {
      echo "$p"
      return 0
    }
  done
  echo "$path"
}

# access_problem USER WHAT PATH: print why USER (who runs WHAT) cannot read PATH (a directory:
# enter and list it), or nothing when it can. Only as root: nobody else switches users.
access_problem() {
  local user=$1 what=$2 path=$3 at
  [ "$(id -u)" -eq 0 ] || return 0
  id -u "$user" >/dev/null 2>&1 || return 0 # not installed yet: nothing runs as it
  if [ -d "$path" ]; then
    runuser -u "$user" -- test -r "$path" -a -x "$path" 2>/dev/null && return 0
  else
    runuser -u "$user" -- test -r "$path" 2>/dev/null && return 0
  fi
  at=$(blocked_at "$user" "$path")
  echo "$what runs as the user $user, who cannot read $path: $at is mode $(stat -c '%a, owner %U' "$at")."
}

# require_access USER WHAT PATH...: stop with a clear message when USER cannot read a PATH.
require_access() {
  local user=$1 what=$2 path problems=''
  shift 2
  problems=$(for path in "$@"; do access_problem "$user" "$what" "$path"; done)
  [ -z "$problems" ] || access_die "$problems"
}

# require_readable_checkout: every entry point that starts servers calls this first, so that a
# checkout other users cannot read stops at once with the reason, whatever the entry point.
require_readable_checkout() {
  local problems
  problems=$(
    access_problem postgres "PostgreSQL" "$ROOT"
    access_problem nobody "nginx (its worker processes)" "$ROOT/frontend/public"
  )
  [ -z "$problems" ] || access_die "$problems"
}

# access_die PROBLEMS: the one message for a checkout or stack directory others cannot read.
access_die() {
  die "the servers of the stack cannot read what they need:
  ${1//$'\n'/$'\n'  }
  As root, the stack's servers run as these users, never as root. Make the path readable
  (chmod o+rx on the directory named and on each one above the checkout) or put the checkout
  where other users can read it (e.g. under /srv or /opt)."
}

# ---- a stack of one's own ---------------------------------------------------------------------
# A script or test area that needs PostgreSQL and Redis keeps them in one directory: DIR/pg (the
# cluster), DIR/redis, and DIR/NAME.pid for every process it starts against them.
#
#   dir=$(stack_tmpdir soak); trap 'stack_cleanup "$dir"' EXIT
#   stack_start "$dir"; stack_env "$(free_port)" soak
#   env "${STACK_ENV[@]}" "$BACKEND" & stack_track "$dir" backend $!

# stack_tmpdir NAME: make /tmp/webapp-NAME.XXXXXX and print its path. Mode 755: PostgreSQL runs
# as the postgres user and must enter it.
stack_tmpdir() {
  local d
  d=$(mktemp -d "/tmp/webapp-$1.XXXXXX") || return 1
  chmod 755 "$d"
  echo "$d"
}

# stack_start DIR [PG_PORT [REDIS_PORT]]: PostgreSQL in DIR/pg and Redis in DIR/redis on these
# ports (free ones when empty); what already runs there is kept. Sets STACK_PG_PORT and
# STACK_REDIS_PORT, and STACK_PG_PID and STACK_REDIS_PID.
stack_start() {
  local dir=$1 pg=${2:-} redis=${3:-}
  [ -n "$pg" ] || pg=$(free_port) || die "no free port found"
  if [ -z "$redis" ]; then
    redis=$pg
    while [ "$redis" = "$pg" ]; do redis=$(free_port) || die "no free port found"; done
  fi
  pg_start "$dir/pg" "$pg"
  redis_start "$dir/redis" "$redis"
  STACK_PG_PORT=$pg STACK_REDIS_PORT=$redis
  STACK_PG_PID=$(head -n 1 "$dir/pg/data/postmaster.pid")
  STACK_REDIS_PID=$(cat "$dir/redis/redis.pid")
}

# stack_env [SERVER_PORT POD_NAME]: set the array STACK_ENV to the VAR=value words that point a
# server at the stack of the last stack_start (DB_* and REDIS_*); with SERVER_PORT, also those
# of a backend on 127.0.0.1:SERVER_PORT named POD_NAME that shuts down without a drain. Later
# words win (`env "${STACK_ENV[@]}" SHUTDOWN_DRAIN_SECONDS=5 ...`).
stack_env() {
  STACK_ENV=(DB_HOST=127.0.0.1 "DB_PORT=$STACK_PG_PORT" DB_USER=app DB_PASSWORD= DB_NAME=webapp
    REDIS_HOST=127.0.0.1 "REDIS_PORT=$STACK_REDIS_PORT")
  if [ $# -gt 0 ]; then
    STACK_ENV+=("SERVER_PORT=$1" BIND_ADDRESS=127.0.0.1 SHUTDOWN_DRAIN_SECONDS=0 "POD_NAME=$2")
  fi
}

# stack_track DIR NAME PID: PID (a process this script started) is stopped by stack_stop DIR.
stack_track() { echo "$3" >"$1/$2.pid"; }

# stack_stop_tracked DIR: stop every process of DIR/*.pid (SIGTERM, SIGKILL after 30 s).
stack_stop_tracked() {
  local f
  for f in "$1"/*.pid; do
    [ -f "$f" ] && stop_pidfile "$f" 30
  done
  return 0
}

# stack_stop DIR: the tracked processes, then Redis and PostgreSQL. The data stays.
stack_stop() {
  stack_stop_tracked "$1"
  redis_stop "$1/redis"
  pg_stop "$1/pg"
}

# stack_cleanup DIR: stack_stop, then delete DIR. For an EXIT trap.
stack_cleanup() {
  stack_stop "$1"
  rm -rf "$1"
}
