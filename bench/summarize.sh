#!/usr/bin/env bash
# summarize.sh RESULTS-DIR: the tables bench/bench.sh prints, from RESULTS-DIR/runs.tsv
# (and ready.tsv when scenario g ran). Per scenario and target: means over the repetitions of
# req/s, p50, p99, server CPU us/request (each repetition's value in brackets; spread =
# (max-min)/mean), PostgreSQL+Redis CPU us/request, their sum, the largest peak RSS, summed
# non-2xx and socket errors, X-Cache hit share, and CPU relative to the scenario's first target.
# Then the targets that one run can check by itself (ratios to the libmicrohttpd floors: hello
# for a health check, one Redis GET for a cached read; memory, page cost at two table sizes,
# start to ready) and, when a target is named "express", the ratios to it.
set -euo pipefail
dir=${1:?usage: summarize.sh RESULTS-DIR}
[ -f "$dir/runs.tsv" ] || { echo "no $dir/runs.tsv" >&2; exit 1; }

awk -F'\t' '
  function label(s) {
    if (s == "a") return "a user-hit"; if (s == "b") return "b list-hit"
    if (s == "c") return "c user-miss"; if (s == "d") return "d create"
    if (s == "e") return "e health"; if (s ~ /^f/) return "f page@" substr(s, 2)
    return s
  }
  NR == 1 { next }
  {
    k = $1 SUBSEP $3
    if (!(k in n)) { order[++nk] = k; sc[k] = $1; tg[k] = $3 }
    n[k]++; rps[k] += $6; p50[k] += $7; p99[k] += $9; n2[k] += $10; se[k] += $11
    hit[k] += $12; mis[k] += $13; cpu[k] += $14; st[k] += $15
    reps[k] = reps[k] (n[k] > 1 ? "/" : "") sprintf("%.0f", $14)
    if (n[k] == 1 || $14 < lo[k]) lo[k] = $14
    if (n[k] == 1 || $14 > hi[k]) hi[k] = $14
    if ($16 > rss[k]) rss[k] = $16
  }
  END {
    printf "%-16s %-10s %8s %7s %7s %6s %4s %5s %8s %-13s %6s %8s %8s %7s %6s\n",
      "scenario", "target", "req/s", "p50 ms", "p99 ms", "non2xx", "err", "hit%",
      "cpu us", "(per rep)", "spread", "stack us", "total us", "RSS MiB", "x cpu"
    last = ""
    for (j = 1; j <= nk; j++) {
      k = order[j]; s = sc[k]; m = n[k]
      if (s != last) { base = k; last = s; if (j > 1) print "" }
      c = cpu[k] / m
      hp = hit[k] + mis[k] > 0 ? sprintf("%.0f", 100 * hit[k] / (hit[k] + mis[k])) : "-"
      sp = c > 0 ? sprintf("%.0f%%", 100 * (hi[k] - lo[k]) / c) : "-"
      xc = cpu[base] > 0 ? sprintf("%.2f", c / (cpu[base] / n[base])) : "-"
      printf "%-16s %-10s %8.0f %7.2f %7.2f %6d %4d %5s %8.1f %-13s %6s %8.1f %8.1f %7.1f %6s\n",
        label(s), tg[k], rps[k] / m, p50[k] / m, p99[k] / m, n2[k], se[k], hp, c,
        "(" reps[k] ")", sp, st[k] / m, c + st[k] / m, rss[k], xc
    }
  }' "$dir/runs.tsv"

if [ -f "$dir/ready.tsv" ]; then
  echo
  printf '%-16s %-10s %8s %8s %8s  %s\n' "g start-to-ready" target "min ms" "median" "max ms" "(each start)"
  awk -F'\t' 'NR > 1 { print $1, $3 }' "$dir/ready.tsv" | sort -k1,1 -k2,2g | awk '
    { v[$1, ++n[$1]] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++nt] = $1 } }
    END {
      for (j = 1; j <= nt; j++) {
        t = order[j]; m = n[t]; list = ""
        for (i = 1; i <= m; i++) list = list (i > 1 ? "/" : "") v[t, i]
        med = m % 2 ? v[t, (m + 1) / 2] : (v[t, m / 2] + v[t, m / 2 + 1]) / 2
        printf "%-16s %-10s %8.1f %8.1f %8.1f  (%s, sorted)\n", "", t, v[t, 1], med, v[t, m], list
      }
    }'
fi

# Checks: the figures of the issue a single run can verify (the Express ratios need a target
# named express in the same run, see docs/benchmarks.md).
echo
{
  cat "$dir/runs.tsv"
  if [ -f "$dir/ready.tsv" ]; then awk -F'\t' 'NR > 1 { print "READY\t" $1 "\t" $3 }' "$dir/ready.tsv"; fi
} | awk -F'\t' '
  $1 == "READY" { rn[$2]++; rv[$2, rn[$2]] = $3; next }
  $1 == "scenario" { next }
  {
    k = $1 SUBSEP $3; n[k]++; cpu[k] += $14; p50[k] += $7; tot[k] += $14 + $15; rps[k] += $6; p99[k] += $9
    if (!($3 in isT)) { isT[$3] = 1; tl[++nt] = $3 }
    if ($16 > rss[$3]) rss[$3] = $16
    if ($1 ~ /^f/) { rows = substr($1, 2) + 0; if (!(rows in rs)) { rs[rows] = 1; if (fmin == "" || rows < fmin) fmin = rows; if (rows > fmax) fmax = rows } }
  }
  function mean(a, k) { return n[k] ? a[k] / n[k] : -1 }
  # scenario sc of target t against express: at most lim (or at least, when atleast)
  function vs(sc, t, what, a, lim, atleast,   x, y) {
    x = mean(a, sc SUBSEP t); y = mean(a, sc SUBSEP "express")
    if (x > 0 && y > 0) line(t, what, x / y, (atleast ? ">= " : "") lim, "x", atleast ? x / y >= lim : x / y <= lim)
  }
  function line(t, what, v, lim, unit, ok) {
    printf "  %-10s %-44s %9.2f %-6s limit %-8s %s\n", t, what, v, unit, lim, ok ? "ok" : "MISSED"
  }
  END {
    print "checks (issue targets measurable in one run):"
    hello = mean(cpu, "e" SUBSEP "mhd-hello"); rfloor = mean(cpu, "a" SUBSEP "mhd-redis")
    for (j = 1; j <= nt; j++) {
      t = tl[j]; if (t !~ /^c-/) continue
      a = mean(cpu, "a" SUBSEP t); e = mean(cpu, "e" SUBSEP t)
      if (hello > 0 && a > 0) line(t, "cpu cached GET /api/users/{id} / hello floor", a / hello, "2", "x", a / hello <= 2)
      if (hello > 0 && e > 0) line(t, "cpu GET /health/live / hello floor", e / hello, "1.5", "x", e / hello <= 1.5)
      if (rfloor > 0 && a > 0) line(t, "cpu cached GET /api/users/{id} / Redis floor", a / rfloor, "1.5", "x", a / rfloor <= 1.5)
      line(t, "peak RSS, any scenario", rss[t], "16", "MiB", rss[t] <= 16)
      if (fmin != "" && fmin != fmax) {
        lo = mean(p50, "f" fmin SUBSEP t); hi = mean(p50, "f" fmax SUBSEP t)
        if (lo > 0 && hi > 0) line(t, sprintf("p50 uncached page, %d rows / %d rows", fmax, fmin), hi / lo, "1.5", "x", hi / lo <= 1.5)
      }
      vs("a", t, "cpu cached GET /api/users/{id} / express", cpu, 0.15, 0)
      vs("b", t, "cpu cached list page / express", cpu, 0.15, 0)
      vs("c", t, "cpu cache miss / express", cpu, 0.3, 0)
      vs("d", t, "cpu create / express", cpu, 0.3, 0)
      vs("a", t, "cpu+PostgreSQL+Redis, cached read / express", tot, 0.3, 0)
      vs("a", t, "req/s cached GET /api/users/{id} / express", rps, 5, 1)
      vs("a", t, "p99 cached GET /api/users/{id} / express", p99, 0.25, 0)
      if (rn[t] > 0) {
        m = rn[t]; for (i = 1; i <= m; i++) s[i] = rv[t, i]
        for (i = 1; i <= m; i++) for (q = i + 1; q <= m; q++) if (s[q] < s[i]) { x = s[i]; s[i] = s[q]; s[q] = x }
        med = m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
        line(t, "start to ready, median", med, "100", "ms", med < 100)
      }
    }
  }'
