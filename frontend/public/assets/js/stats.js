// Pure bookkeeping for the live view (no DOM): per-second buckets of responses and the
// pods that answered recently. Times are milliseconds (Date.now()); tested under Node.

/** Value at quantile q (0..1) of an ascending array, nearest-rank; null when empty. */
export function quantile(sorted, q) {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** An error, for the chart: rate limited (429), server errors and network failures. */
export function isError(status) {
  return status === 0 || status === 429 || status >= 500;
}

/** Responses grouped into one-second buckets, keeping the last `seconds` seconds. */
export class Timeline {
  constructor(seconds = 120) {
    this.seconds = seconds;
    this.buckets = new Map(); // second -> {count, errors, latencies[]}
  }

  /** Record one response that completed at time t (ms) after latency ms with HTTP status. */
  add(t, latency, status) {
    const sec = Math.floor(t / 1000);
    let b = this.buckets.get(sec);
    if (!b) {
      b = { count: 0, errors: 0, latencies: [] };
      this.buckets.set(sec, b);
      this.prune(t);
    }
    b.count += 1;
    if (isError(status)) b.errors += 1;
    else b.latencies.push(latency);
  }

  prune(now) {
    const oldest = Math.floor(now / 1000) - this.seconds;
    for (const sec of this.buckets.keys()) {
      if (sec < oldest) this.buckets.delete(sec);
    }
  }

  /**
   * One entry per second for the last `seconds` seconds ending with the current (partial)
   * second, oldest first: {sec, count, errors, p50, p95} (p50/p95 null without successes).
   */
  series(now) {
    const last = Math.floor(now / 1000);
    const out = [];
    for (let sec = last - this.seconds + 1; sec <= last; sec++) {
      const b = this.buckets.get(sec);
      if (!b) {
        out.push({ sec, count: 0, errors: 0, p50: null, p95: null });
        continue;
      }
      const sorted = b.latencies.slice().sort((x, y) => x - y);
      out.push({ sec, count: b.count, errors: b.errors, p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) });
    }
    return out;
  }

  /**
   * Numbers over the last `window` complete seconds (the current partial second is left out
   * so the rate does not dip every time a new second starts): {rps, errors, count, p50, p95}.
   */
  summary(now, window = 5) {
    const last = Math.floor(now / 1000) - 1;
    let count = 0;
    let errors = 0;
    const lat = [];
    for (let sec = last - window + 1; sec <= last; sec++) {
      const b = this.buckets.get(sec);
      if (!b) continue;
      count += b.count;
      errors += b.errors;
      lat.push(...b.latencies);
    }
    lat.sort((x, y) => x - y);
    return { rps: count / window, errors, count, p50: quantile(lat, 0.5), p95: quantile(lat, 0.95) };
  }
}

/** Which pods answered (X-Served-By) in the last `windowMs`, and which ones are new. */
export class ServedBy {
  constructor(windowMs = 10000, newForMs = 30000) {
    this.windowMs = windowMs;
    this.newForMs = newForMs;
    this.hits = []; // [t, pod], in time order
    this.firstSeen = new Map(); // pod -> t
  }

  add(t, pod) {
    if (!pod) return;
    this.hits.push([t, pod]);
    if (!this.firstSeen.has(pod)) this.firstSeen.set(pod, t);
    if (this.hits.length > 50000) this.prune(t);
  }

  prune(now) {
    const from = now - this.windowMs;
    let i = 0;
    while (i < this.hits.length && this.hits[i][0] < from) i++;
    if (i > 0) this.hits.splice(0, i);
  }

  /**
   * [{pod, count, isNew}] for the window ending at now, busiest first. A pod is "new" when it
   * first answered less than newForMs ago while another pod had answered before it: that is a
   * replica the autoscaler just added, not simply the first pod the page met.
   */
  current(now) {
    this.prune(now);
    const counts = new Map();
    for (const [, pod] of this.hits) counts.set(pod, (counts.get(pod) || 0) + 1);
    const firstEver = Math.min(...this.firstSeen.values());
    return [...counts.entries()]
      .map(([pod, count]) => {
        const seen = this.firstSeen.get(pod);
        return { pod, count, isNew: seen > firstEver && now - seen < this.newForMs };
      })
      .sort((a, b) => b.count - a.count || a.pod.localeCompare(b.pod));
  }
}
