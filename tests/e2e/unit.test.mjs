// The page's pure modules, under Node: percentiles, per-second buckets, served-by window, Link parsing.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseLink } from "../../frontend/public/assets/js/api.js";
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
