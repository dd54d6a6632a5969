// The page's pure modules, under Node: percentiles, per-second buckets, served-by window, Link
// parsing, and the autoscaler panel's words (status, ages, arithmetic, states, expected replicas).

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseLink } from "../../frontend/public/assets/js/api.js";
import {
  expectedLoadText, explainArithmetic, explainEndpoint, explainSource, formatAge, formatAgo, formatDuration, isView,
  liveSizing, ReplicaHistory, statusWord,
} from "../../frontend/public/assets/js/autoscaler.js";
import { expectedReplicas } from "../../frontend/public/assets/js/sizing.js";
import { isError, quantile, ServedBy, Timeline } from "../../frontend/public/assets/js/stats.js";

describe("quantile", () => {
  test("nearest rank on sorted values", () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(quantile(v, 0.5), 50);
    assert.equal(quantile(v, 0.95), 95);
    assert.equal(quantile(v, 1), 100);
    assert.equal(quantile([7], 0.95), 7);
    assert.equal(quantile([], 0.5), null);
  });
});

describe("isError", () => {
  test("429, 5xx and network failures count; 4xx validation errors do not", () => {
    for (const s of [0, 429, 500, 502, 503, 504]) assert.equal(isError(s), true, `status ${s}`);
    for (const s of [200, 201, 204, 400, 404, 409]) assert.equal(isError(s), false, `status ${s}`);
  });
});

describe("Timeline", () => {
  const t0 = 1_700_000_000_000;

  test("buckets per second with p50/p95 from successes only", () => {
    const tl = new Timeline(120);
    for (let i = 1; i <= 20; i++) tl.add(t0 + i, i * 10, 200); // 20 successes in one second
    tl.add(t0 + 500, 5, 429);
    tl.add(t0 + 600, 5, 503);
    const s = tl.series(t0 + 999);
    assert.equal(s.length, 120);
    const last = s[s.length - 1];
    assert.deepEqual(last, { sec: Math.floor(t0 / 1000), count: 22, errors: 2, p50: 100, p95: 190 });
    assert.equal(s[0].count, 0);
    assert.equal(s[0].p50, null);
  });

  test("summary leaves out the current partial second and averages over the window", () => {
    const tl = new Timeline(120);
    for (let sec = 0; sec < 5; sec++) {
      for (let i = 0; i < 10; i++) tl.add(t0 + sec * 1000 + i, 200 + i, 200);
    }
    tl.add(t0 + 5000, 9999, 200); // the current second: not in the summary yet
    const sum = tl.summary(t0 + 5500, 5);
    assert.equal(sum.rps, 10);
    assert.equal(sum.count, 50);
    assert.equal(sum.errors, 0);
    assert.equal(sum.p50, 204);
    assert.equal(sum.p95, 209);
  });

  test("forgets what is older than its window", () => {
    const tl = new Timeline(120);
    tl.add(t0, 10, 200);
    tl.add(t0 + 200_000, 10, 200);
    assert.equal(tl.buckets.has(Math.floor(t0 / 1000)), false);
    assert.equal(tl.series(t0 + 200_000).reduce((n, b) => n + b.count, 0), 1);
  });
});

describe("ServedBy", () => {
  const t0 = 1_700_000_000_000;

  test("counts per pod in the last 10 s, busiest first", () => {
    const sb = new ServedBy(10_000, 30_000);
    sb.add(t0, "pod-a");
    sb.add(t0 + 5000, "pod-a");
    sb.add(t0 + 6000, "pod-b");
    sb.add(t0 + 7000, "pod-a");
    sb.add(t0 + 8000, "");
    assert.deepEqual(sb.current(t0 + 9000).map((p) => [p.pod, p.count]), [["pod-a", 3], ["pod-b", 1]]);
    // 10.5 s later the first hit has left the window.
    assert.deepEqual(sb.current(t0 + 10_500).map((p) => [p.pod, p.count]), [["pod-a", 2], ["pod-b", 1]]);
    assert.deepEqual(sb.current(t0 + 30_000), []);
  });

  test("a pod that appears after another one is new for 30 s; the first one never is", () => {
    const sb = new ServedBy(10_000, 30_000);
    sb.add(t0, "pod-a");
    sb.add(t0 + 20_000, "pod-b");
    sb.add(t0 + 20_000, "pod-a");
    const now = sb.current(t0 + 21_000);
    assert.deepEqual(now.map((p) => [p.pod, p.isNew]), [["pod-a", false], ["pod-b", true]]);
    sb.add(t0 + 55_000, "pod-b");
    assert.equal(sb.current(t0 + 55_000)[0].isNew, false);
  });
});

describe("parseLink", () => {
  test("reads rel=next as the API sends it", () => {
    assert.deepEqual(parseLink('</api/users?limit=10&before=42>; rel="next"'), { next: "/api/users?limit=10&before=42" });
  });
  test("several links, unquoted rel, several rels", () => {
    assert.deepEqual(parseLink('</a>; rel=prev, </b?x=1,2>; rel="next last"'), { prev: "/a", next: "/b?x=1,2", last: "/b?x=1,2" });
  });
  test("absent or malformed", () => {
    assert.deepEqual(parseLink(null), {});
    assert.deepEqual(parseLink("garbage"), {});
    assert.deepEqual(parseLink("</x>; title=y"), {});
  });
});

describe("autoscaler: status word", () => {
  test("scaling up while desired > current, down while below, steady when equal", () => {
    assert.deepEqual(statusWord({ current_replicas: 2, desired_replicas: 6 }), { word: "scaling up", kind: "up" });
    assert.deepEqual(statusWord({ current_replicas: 6, desired_replicas: 3 }), { word: "scaling down", kind: "down" });
    assert.deepEqual(statusWord({ current_replicas: 4, desired_replicas: 4 }), { word: "steady", kind: "steady" });
    assert.equal(statusWord({ current_replicas: null, desired_replicas: 2 }).kind, "unknown");
    assert.equal(statusWord(null).word, "no data");
  });
});

describe("autoscaler: ages", () => {
  const now = Date.parse("2026-12-02T08:00:00Z");
  test("durations in the largest two units", () => {
    assert.equal(formatDuration(0), "0s");
    assert.equal(formatDuration(45_900), "45s");
    assert.equal(formatDuration(192_000), "3m 12s");
    assert.equal(formatDuration(2 * 3600_000 + 5 * 60_000 + 30_000), "2h 5m");
    assert.equal(formatDuration(3 * 86400_000 + 4 * 3600_000), "3d 4h");
    assert.equal(formatDuration(-5000), "0s", "a clock a little ahead is not a negative age");
  });
  test("ages and 'ago' from RFC 3339 times; absent or unreadable times say so", () => {
    assert.equal(formatAge("2026-12-02T07:50:00Z", now), "10m 0s");
    assert.equal(formatAge(null, now), "–");
    assert.equal(formatAge("yesterday", now), "–");
    assert.equal(formatAgo("2026-12-02T07:59:40Z", now), "20s ago");
    assert.equal(formatAgo("2026-12-02T07:59:59.500Z", now), "just now");
    assert.equal(formatAgo(null, now), "never");
  });
});

describe("autoscaler: the HPA arithmetic in words", () => {
  const hpa = {
    min_replicas: 2, max_replicas: 10, current_replicas: 2, desired_replicas: 6,
    target_cpu_utilization: 200, current_cpu_utilization: 540, behavior: null,
  };

  test("the live numbers: 2 pods × 540% ÷ 200% = 5.4 → 6", () => {
    const e = explainArithmetic(hpa);
    assert.equal(e.sentences[0], "2 pods × 540% ÷ 200% = 5.4 → 6.");
    assert.equal(e.proposal, 6);
    assert.equal(e.computed, 6);
    assert.equal(e.clamped, null);
    assert.equal(e.limited, false);
    assert.match(e.sentences.join(" "), /within min 2 and max 10, so no clamping/);
    assert.match(e.sentences.join(" "), /Desired: 6 replicas, as the HPA reports/);
  });

  test("a whole result has no arrow, and floating point does not round 3 × 70 ÷ 70 up", () => {
    const e = explainArithmetic({ ...hpa, current_replicas: 3, desired_replicas: 3, current_cpu_utilization: 70, target_cpu_utilization: 70 });
    assert.equal(e.sentences[0], "3 pods × 70% ÷ 70% = 3.");
    assert.equal(e.proposal, 3);
  });

  test("clamped at the maximum, and the per-period policy limits the step", () => {
    const e = explainArithmetic({ ...hpa, current_cpu_utilization: 1500, desired_replicas: 6 });
    assert.equal(e.sentences[0], "2 pods × 1500% ÷ 200% = 15.");
    assert.equal(e.clamped, "max");
    assert.match(e.sentences[1], /above the maximum of 10: clamped to 10/);
    // Defaults: +100% or +4 pods per 15 s, the larger: from 2 at most 6.
    assert.equal(e.limited, true);
    assert.equal(e.computed, 6);
    assert.match(e.sentences[2], /default scaling policies allow \+100% per 15 s or \+4 pods per 15 s, whichever is larger: from 2, at most 6/);
  });

  test("clamped at the minimum; scale-down limited by behavior and its stabilisation window", () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: "Max", policies: [{ type: "Percent", value: 50, periodSeconds: 15 }] } };
    const e = explainArithmetic({ ...hpa, current_replicas: 6, desired_replicas: 3, current_cpu_utilization: 20, behavior });
    assert.equal(e.sentences[0], "6 pods × 20% ÷ 200% = 0.6 → 1.");
    assert.equal(e.clamped, "min");
    assert.equal(e.computed, 3, "−50% per 15 s: 6 -> 3 first");
    const text = e.sentences.join(" ");
    assert.match(text, /below the minimum of 2: clamped to 2/);
    assert.match(text, /policies in the HPA's behavior allow −50% per 15 s: from 6, no fewer than 3/);
    assert.match(text, /held for 60 s \(stabilisation window\)/);
    assert.match(text, /Desired: 3 replicas, as the HPA reports/);
  });

  test("within the 10% tolerance nothing changes", () => {
    const e = explainArithmetic({ ...hpa, current_cpu_utilization: 210, desired_replicas: 2 });
    assert.equal(e.withinTolerance, true);
    assert.equal(e.computed, 2);
    assert.match(e.sentences[1], /210% is within 10% of the 200% target \(ratio 1.05\), so the HPA keeps 2 replicas/);
  });

  test("selectPolicy Min and Disabled", () => {
    const min = { scaleUp: { selectPolicy: "Min", policies: [{ type: "Percent", value: 100, periodSeconds: 15 }, { type: "Pods", value: 1, periodSeconds: 60 }] } };
    assert.equal(explainArithmetic({ ...hpa, behavior: min }).computed, 3, "the smaller change: +1 pod");
    const off = { scaleUp: { selectPolicy: "Disabled", policies: [] } };
    const e = explainArithmetic({ ...hpa, behavior: off });
    assert.equal(e.computed, 2);
    assert.match(e.sentences.join(" "), /Scaling up is disabled/);
  });

  test("says when the HPA's own figure differs, and when there is no CPU figure", () => {
    assert.match(explainArithmetic({ ...hpa, desired_replicas: 4 }).sentences.at(-1), /The HPA itself reports 4 desired/);
    const none = explainArithmetic({ ...hpa, current_cpu_utilization: null, desired_replicas: 2 });
    assert.equal(none.computed, 2);
    assert.match(none.sentences[0], /no CPU figure for the pods yet/);
    assert.match(explainArithmetic({ ...hpa, current_replicas: 0 }).sentences[0], /scaled to 0/);
  });
});

describe("autoscaler: explained states", () => {
  test("every state of every source has words; ok has none", () => {
    for (const name of ["hpa", "pods", "metrics", "events"]) {
      assert.equal(explainSource(name, { state: "ok", message: null }), null);
      for (const state of ["starting", "forbidden", "unauthorized", "not_found", "timeout", "unreachable", "error", "local", "strange"]) {
        const text = explainSource(name, { state, message: null });
        assert.ok(typeof text === "string" && text.length > 20, `${name}/${state}: ${text}`);
      }
    }
  });

  test("forbidden names the missing permission from the component's message", () => {
    const text = explainSource("metrics", { state: "forbidden", message: "the ServiceAccount may not list pods.metrics.k8s.io in webapp (403)" });
    assert.match(text, /^Forbidden \(403\): the ServiceAccount may not list pods\.metrics\.k8s\.io in webapp \(403\)\./);
  });

  test("metrics API missing: metrics-server is not installed, so the HPA has no CPU", () => {
    const text = explainSource("metrics", { state: "not_found", message: null });
    assert.match(text, /metrics-server is not installed, so the HPA has no CPU to act on/);
    assert.match(explainSource("hpa", { state: "not_found" }, { hpaName: "backend-hpa", namespace: "webapp" }), /No HorizontalPodAutoscaler backend-hpa in webapp/);
  });

  test("local mode shows the hint", () => {
    assert.equal(explainSource("hpa", { state: "local" }, { hint: "Local mode: run `task setup`." }), "Local mode: run `task setup`.");
  });

  test("the endpoint itself: nginx 502/503/504 and network errors mean the view is not running", () => {
    for (const status of [502, 503, 504]) {
      const e = explainEndpoint({ status });
      assert.equal(e.title, "The autoscaler view is not running.");
      assert.match(e.text, new RegExp(`HTTP ${status}`));
    }
    const unset = explainEndpoint({ status: 503, error: "autoscaler view not configured: AUTOSCALER_URL is not set" });
    assert.equal(unset.title, "There is no autoscaler view here.");
    assert.match(unset.text, /^nginx answered HTTP 503 for \/api\/autoscaler \(autoscaler view not configured: AUTOSCALER_URL is not set\): this setup does not run/);
    assert.match(explainEndpoint({ status: 503, error: "autoscaler view unavailable: the autoscaler-view component does not answer" }).title, /is not running/);
    assert.match(explainEndpoint({ status: 0 }).text, /network error/);
    assert.match(explainEndpoint({ status: 404 }).text, /404/);
    assert.equal(isView({ mode: "cluster", hpa: {} }), true);
    assert.equal(isView({ error: "backend unavailable" }), false);
  });
});

describe("autoscaler: expected replicas for the load", () => {
  test("the manifests' numbers when nothing live is known", () => {
    const e = expectedLoadText(4, null);
    assert.equal(e.replicas, expectedReplicas(4));
    assert.match(e.text, /4 × 1000m ÷ 500m per pod \(250m request × 200% target\) = 8; numbers from the manifests/);
  });

  test("live HPA target, bounds and the pods' request win in cluster mode", () => {
    const view = {
      mode: "cluster",
      hpa: { target_cpu_utilization: 50, min_replicas: 1, max_replicas: 5 },
      pods: { items: [{ cpu_request_millicores: 500 }, { cpu_request_millicores: 500 }, { cpu_request_millicores: null }] },
    };
    const { sizing, live } = liveSizing(view);
    assert.deepEqual([sizing.targetUtilization, sizing.minReplicas, sizing.maxReplicas, sizing.cpuRequestMillicores], [50, 1, 5, 500]);
    assert.deepEqual(live, ["target", "min/max", "CPU request"]);
    const e = expectedLoadText(3, view);
    assert.equal(e.raw, 12);
    assert.equal(e.replicas, 5);
    assert.match(e.text, /= 12, capped at the maximum of 5; live target, min\/max, CPU request from the cluster/);
  });

  test("local mode says what the cluster would do", () => {
    const e = expectedLoadText(1, { mode: "local", hpa: { min_replicas: 1, max_replicas: 1 } });
    assert.equal(e.replicas, expectedReplicas(1), "local bounds (1..1) are not the cluster's");
    assert.match(e.text, /^Here one local process takes it all \(no autoscaler\)\. On the cluster, 1 worker would settle on about 2 replicas/);
  });
});

describe("autoscaler: replica history for the chart", () => {
  const t0 = 1_700_000_000_000;
  test("one value per second, carried between polls, a gap after the hold time", () => {
    const h = new ReplicaHistory(10, 6000);
    h.add(t0, 2, 2);
    h.add(t0 + 2000, 2, 6);
    h.add(t0 + 4000, 6, 6);
    const s = h.series(t0 + 4500);
    assert.equal(s.length, 10);
    assert.deepEqual(s.slice(-5).map((p) => [p.current, p.desired]), [[2, 2], [2, 2], [2, 6], [2, 6], [6, 6]]);
    assert.equal(s[0].current, null, "nothing known before the first reading");
    // No reading for 9 s: the line stops instead of inventing values.
    const later = h.series(t0 + 13_500);
    assert.equal(later.at(-1).current, null);
    assert.equal(later.at(-8).current, 6);
    assert.deepEqual(h.latest(), { t: t0 + 4000, current: 6, desired: 6 });
  });
});
