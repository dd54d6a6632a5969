// How the load maps to backend pods, computed from the rendered manifests with the HPA's
// own arithmetic (kube-controller-manager, pkg/controller/podautoscaler): the table the
// page (frontend/public/assets/js/sizing.js) and docs/kubernetes.md show must be what the
// cluster would do, and a change to a request, a limit, STRESS_SLOTS or the HPA that breaks
// the mapping fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, appObjects, find } from './lib/common.mjs';
import { CLUSTER_SIZING, expectedReplicas } from '../../frontend/public/assets/js/sizing.js';

const app = appObjects();
const WORKER_MILLICORES = 1000; // one load worker keeps one burn running; a burn keeps one core busy
const TOLERANCE = 0.1; // --horizontal-pod-autoscaler-tolerance default
const CONCURRENCIES = [1, 2, 4, 8];

/** A CPU quantity ("250m", "2", "0.5") in millicores. */
function millicores(q) {
  const s = String(q);
  const m = s.match(/^(\d+(?:\.\d+)?)(m?)$/);
  assert.ok(m, `not a CPU quantity: ${s}`);
  return m[2] ? Number(m[1]) : Math.round(Number(m[1]) * 1000);
}

function rendered() {
  const dep = find(app, 'Deployment', 'backend');
  const c = dep.spec.template.spec.containers.find((x) => x.name === 'backend');
  const hpa = find(app, 'HorizontalPodAutoscaler', 'backend-hpa');
  const cpu = hpa.spec.metrics.find((m) => m.type === 'Resource' && m.resource.name === 'cpu');
  assert.ok(cpu, 'the HPA has a CPU metric');
  assert.equal(cpu.resource.target.type, 'Utilization');
  return {
    request: millicores(c.resources.requests.cpu),
    limit: millicores(c.resources.limits.cpu),
    slots: Number(find(app, 'ConfigMap', 'backend-config').data.STRESS_SLOTS),
    target: cpu.resource.target.averageUtilization,
    min: hpa.spec.minReplicas,
    max: hpa.spec.maxReplicas,
    behavior: hpa.spec.behavior,
  };
}

const clamp = (n, lo, hi) => Math.min(hi, Math.max(lo, n));

// The replica calculator: ceil(usage ratio x pods), unchanged inside the tolerance.
function recommend(s, pods, usedMillicores) {
  const ratio = usedMillicores / (pods * s.request * s.target / 100);
  if (Math.abs(1 - ratio) <= TOLERANCE) return pods;
  return Math.ceil(ratio * pods);
}

// calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors, with the
// count at the start of the period (one step per period here, so the current count).
function scaleLimit(rules, periodStart, up) {
  const proposals = rules.policies.map((p) => {
    if (p.type === 'Pods') return up ? periodStart + p.value : periodStart - p.value;
    return up ? Math.ceil(periodStart * (1 + p.value / 100)) : Math.trunc(periodStart * (1 - p.value / 100));
  });
  const most = (rules.selectPolicy ?? 'Max') === 'Max';
  return up === most ? Math.max(...proposals) : Math.min(...proposals);
}

// The CPU the pods can use: each runs at most STRESS_SLOTS burns of one core, under its limit.
function used(s, pods, concurrency) {
  return Math.min(concurrency * WORKER_MILLICORES, pods * Math.min(s.limit, s.slots * WORKER_MILLICORES));
}

// Periods of the HPA from `from` pods under a constant load, until the count settles.
function run(s, from, concurrency) {
  const seq = [from];
  let pods = from;
  for (let i = 0; i < 20; i++) {
    let next = clamp(recommend(s, pods, used(s, pods, concurrency)), s.min, s.max);
    if (next > pods) next = Math.min(next, scaleLimit(s.behavior.scaleUp, pods, true));
    if (next < pods) next = Math.max(next, scaleLimit(s.behavior.scaleDown, pods, false));
    if (next === pods) return seq;
    seq.push(pods = next);
  }
  assert.fail(`no steady count from ${from} pods at concurrency ${concurrency}: ${seq.join(' -> ')}`);
}

const docs = fs.readFileSync(path.join(ROOT, 'docs/kubernetes.md'), 'utf8');

function docsTable() {
  const lines = docs.split('\n');
  const head = lines.findIndex((l) => /^\|\s*concurrency\s*\|\s*expected pods\s*\|$/.test(l.trim()));
  assert.ok(head >= 0, 'docs/kubernetes.md has a "| concurrency | expected pods |" table');
  const rows = {};
  for (const l of lines.slice(head + 2)) {
    const m = l.trim().match(/^\|\s*(\d+)\s*\|\s*(\d+)\s*\|$/);
    if (!m) break;
    rows[m[1]] = Number(m[2]);
  }
  return rows;
}

test('the rendered manifests size the backend as the demo expects: 1, 2, 4, 8 workers -> 2, 4, 8, 10 pods', () => {
  const s = rendered();
  const got = CONCURRENCIES.map((c) => clamp(Math.ceil(c * WORKER_MILLICORES / (s.request * s.target / 100)), s.min, s.max));
  assert.deepEqual(got, [2, 4, 8, 10]);
  // The same from the HPA's loop, starting at minReplicas, with the pods' CPU capped by
  // their slots and limits: the load settles on the table's count.
  for (const [i, c] of CONCURRENCIES.entries()) assert.equal(run(s, s.min, c).at(-1), got[i], `concurrency ${c}`);
});

test('a pod\'s CPU limit lets all of its stress slots burn a full core each', () => {
  const s = rendered();
  assert.ok(s.limit >= s.slots * WORKER_MILLICORES,
    `limit ${s.limit}m < STRESS_SLOTS ${s.slots} x ${WORKER_MILLICORES}m: burns sharing a pod would be throttled`);
  // And enough slots over the pods the table asks for to run every worker's burn at once.
  for (const c of CONCURRENCIES) assert.ok(expectedReplicas(c) * s.slots >= Math.min(c, s.max * s.slots), `concurrency ${c}`);
});

test('frontend/public/assets/js/sizing.js holds the rendered numbers', () => {
  const s = rendered();
  assert.deepEqual({ ...CLUSTER_SIZING }, {
    workerMillicores: WORKER_MILLICORES, cpuRequestMillicores: s.request, targetUtilization: s.target,
    minReplicas: s.min, maxReplicas: s.max,
  });
  for (let c = 1; c <= 16; c++) assert.equal(expectedReplicas(c), run(s, s.min, c).at(-1), `concurrency ${c}`);
});

test('docs/kubernetes.md states the same table', () => {
  const want = Object.fromEntries(CONCURRENCIES.map((c) => [String(c), expectedReplicas(c)]));
  assert.deepEqual(docsTable(), want);
});

test('scale-up and scale-down sequences follow the HPA behaviour, and the docs and manifests say so', () => {
  const s = rendered();
  const down = run(s, s.max, 0);
  assert.deepEqual(down, [10, 5, 2], 'the Percent policy\'s proposal is rounded down: int32(5 x 0.5) = 2');
  const up = run(s, s.min, 8);
  assert.deepEqual(up, [2, 6, 10]);
  const ups = new Set(CONCURRENCIES.map((c) => run(s, s.min, c).join(' -> ')));
  const hpaText = fs.readFileSync(path.join(ROOT, 'k8s/base/backend-hpa.yaml'), 'utf8');
  // Every sequence written down ("10 -> ...", "2 -> x -> ...") is a computed one.
  for (const [where, text] of [['docs/kubernetes.md', docs], ['k8s/base/backend-hpa.yaml', hpaText]]) {
    const downs = text.match(/\b10 -> \d+(?: -> \d+)*/g) || [];
    assert.ok(downs.length > 0, `${where} states the scale-down sequence`);
    for (const d of downs) assert.equal(d, down.join(' -> '), `${where}: "${d}"`);
    const stated = text.match(/\b2 -> \d+(?: -> \d+)+/g) || [];
    assert.ok(stated.includes(up.join(' -> ')), `${where} states the scale-up sequence ${up.join(' -> ')}`);
    for (const u of stated) assert.ok(ups.has(u), `${where}: "${u}" is none of ${[...ups].join(', ')}`);
  }
});
