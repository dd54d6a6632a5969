#!/usr/bin/env bash
# include-graph.sh [--print] [DIR]: the module graph of a C source directory (default
# backend/src), failing on a cycle. A module is a file name without its extension (x.c and x.h
# are module x); module a depends on b when a.c or a.h has #include "b.h". Header-only modules
# (clock.h) count like any other. With --print, the edges are printed as "a -> b c d".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

print=0
if [ "${1:-}" = --print ]; then
  print=1
  shift
fi
dir=${1:-$ROOT/backend/src}
[ -d "$dir" ] || die "no such directory: $dir"

# One "module dependency" line per #include "..." of a file in dir, self-includes left out.
edges() {
  local f
  for f in "$dir"/*.c "$dir"/*.h; do
    [ -e "$f" ] || continue
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' "$f" |
      while read -r dep; do
        local mod
        mod=$(basename "${f%.*}")
        [ "$dep" = "$mod" ] || printf '%s %s\n' "$mod" "$(basename "$dep")"
      done
  done | sort -u
}

# Depth-first search; prints the first cycle found as "a -> b -> a" and exits 1.
edges | awk -v print_graph="$print" '
  { deps[$1] = deps[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
  function visit(n, path,    list, k, i, d, cycle) {
    state[n] = 1
    k = split(deps[n], list, " ")
    for (i = 1; i <= k; i++) {
      d = list[i]
      if (state[d] == 1) {
        cycle = substr(path, index(path, " " d " ") + 1) d
        gsub(/ /, " -> ", cycle)
        print "include cycle: " cycle > "/dev/stderr"
        found = 1
        return
      }
      if (state[d] == 0) {
        visit(d, path d " ")
        if (found)
          return
      }
    }
    state[n] = 2
  }
  END {
    if (print_graph == 1)
      for (n in deps)
        print n " ->" deps[n] | "sort"
    for (n in nodes)
      if (state[n] == 0 && !found)
        visit(n, " " n " ")
    if (found)
      exit 1
  }'
