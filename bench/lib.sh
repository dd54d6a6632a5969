# Measurement helpers for bench/bench.sh (sourced after scripts/lib.sh).
# shellcheck shell=bash

# tree_stat ROOT: "PIDS TICKS" - ROOT and its live descendants (comma separated) and the sum of
# their utime+stime+cutime+cstime in clock ticks. utime/stime of a process include all of its
# threads, also the ones that have exited; cutime/cstime add the children it has reaped.
tree_stat() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
    { pid = $1; s = $0; sub(/^.*\) /, "", s); split(s, f, " ")
      ppid[pid] = f[2]; ticks[pid] = f[12] + f[13] + f[14] + f[15]; seen[pid] = 1 }
    END {
      if (!(root in seen)) { print "- 0"; exit }
      inset[root] = 1; list = root; total = ticks[root]; changed = 1
      while (changed) {
        changed = 0
        for (p in ppid)
          if (!(p in inset) && (ppid[p] in inset)) {
            inset[p] = 1; list = list "," p; total += ticks[p]; changed = 1
          }
      }
      print list, total
    }'
}

# tree_ticks ROOT...: summed CPU clock ticks of each ROOT's tree (missing roots count 0).
tree_ticks() {
  local r t=0 s
  for r in "$@"; do
    [ -n "$r" ] || continue
    s=$(tree_stat "$r")
    t=$((t + ${s#* }))
  done
  echo "$t"
}

# tree_pids ROOT: the pids of ROOT's tree, space separated.
tree_pids() {
  local s
  s=$(tree_stat "$1")
  s=${s% *}
  [ "$s" = - ] || echo "${s//,/ }"
}

# tree_reset_hwm ROOT: reset the peak-RSS mark (VmHWM) of every process in the tree,
# so that reading it after a run gives that run's peak (Linux >= 4.0).
tree_reset_hwm() {
  local p
  for p in $(tree_pids "$1"); do echo 5 >"/proc/$p/clear_refs" 2>/dev/null || true; done
}

# tree_hwm_kib ROOT: summed VmHWM (KiB) over the tree.
tree_hwm_kib() {
  local p v sum=0
  for p in $(tree_pids "$1"); do
    v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    sum=$((sum + ${v:-0}))
  done
  echo "$sum"
}

# pin_tree ROOT CPU: every thread of every process in the tree onto CPU (threads created later
# inherit the mask of the thread that creates them).
pin_tree() {
  local p
  for p in $(tree_pids "$1"); do taskset -a -p -c "$2" "$p" >/dev/null 2>&1 || true; done
}

# listener_pid PORT: the process listening on 127.0.0.1:PORT (the parent, for a pre-fork server).
listener_pid() {
  local pids p
  pids=$(ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -un)
  for p in $pids; do
    grep -qx "$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)" <<<"$pids" || {
      echo "$p"
      return 0
    }
  done
  head -n 1 <<<"$pids"
}

# kv KEY LINE: the value of KEY=value in a BENCH_RESULT line.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
