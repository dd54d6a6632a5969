// autoscaler-view (sanitizer build) against the fake Kubernetes API server of
// tests/lib/fake-kube-api.mjs, and in local mode against a real backend.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeKube } from '../lib/fake-kube-api.mjs';
import { Frontend } from '../lib/frontend.mjs';
import { Stack, sleep } from '../lib/stack.mjs';
import { Backend } from '../lib/backend.mjs';
import { freePort } from '../lib/ports.mjs';
import { apiRequest as request } from '../lib/openapi.mjs';
import { View, viewRequest } from '../lib/view.mjs';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const STATES = ['ok', 'starting', 'forbidden', 'unauthorized', 'not_found', 'timeout', 'unreachable', 'error', 'local'];

let dir;
let kube;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'webapp-view-'));
  kube = await startFakeKube({ dir });
});
after(async () => {
  await kube?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// A fresh view per test, over a fake API put back to normal.
async function withView(env, fn) {
  for (const r of ['hpa', 'pods', 'metrics', 'events']) kube.respond(r, null);
  await kube.up();
  const view = await new View({ dir, kube, env }).start();
  try {
    await fn(view);
  } finally {
    assert.equal((await view.stop()).code, 0, 'exit 0 on SIGTERM, no sanitizer report');
  }
}

const allOk = (d) => ['hpa', 'pods', 'metrics', 'events'].every((s) => d[s].state === 'ok');

function checkShape(d) {
  assert.deepEqual(Object.keys(d), ['mode', 'namespace', 'observed_at', 'poll_ms', 'hint', 'hpa', 'pods', 'metrics', 'events']);
  for (const s of ['hpa', 'pods', 'metrics', 'events']) {
    assert.ok(STATES.includes(d[s].state), `${s}.state ${d[s].state}`);
    assert.ok(d[s].message === null || typeof d[s].message === 'string');
  }
  for (const k of ['name', 'min_replicas', 'max_replicas', 'current_replicas', 'desired_replicas', 'target_cpu_utilization',
    'current_cpu_utilization', 'current_cpu_millicores', 'last_scale_time', 'conditions', 'behavior']) {
    assert.ok(k in d.hpa, `hpa.${k}`);
  }
  assert.ok(Array.isArray(d.pods.items) && Array.isArray(d.events.items) && Array.isArray(d.hpa.conditions));
  for (const p of d.pods.items) {
    assert.deepEqual(Object.keys(p).sort(), ['cpu_millicores', 'cpu_request_millicores', 'name', 'node', 'phase', 'ready', 'restarts', 'started_at']);
  }
}

test('cluster mode: the contract, from starting to the 2 -> 6 scale-up', async () => {
  kube.setState({ replicas: 2, desired: 2, utilization: 40, events: [], lastScaleTime: null, pendingPods: 0 });
  await withView({}, async (view) => {
    const first = await viewRequest(view.url, '/api/autoscaler');
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    assert.match(first.headers.get('content-type'), /^application\/json/);
    checkShape(first.json);

    let d = await view.until(allOk);
    checkShape(d);
    assert.equal(d.mode, 'cluster');
    assert.equal(d.namespace, 'webapp');
    assert.equal(d.hint, null);
    assert.equal(d.poll_ms, 300);
    assert.match(d.observed_at, RFC3339);
    assert.equal(d.hpa.name, 'backend-hpa');
    assert.deepEqual([d.hpa.min_replicas, d.hpa.max_replicas, d.hpa.current_replicas, d.hpa.desired_replicas], [2, 10, 2, 2]);
    assert.equal(d.hpa.target_cpu_utilization, 200);
    assert.equal(d.hpa.current_cpu_utilization, 40);
    assert.equal(d.hpa.current_cpu_millicores, 100);
    assert.equal(d.hpa.last_scale_time, null);
    assert.deepEqual(d.hpa.conditions.map((c) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
    assert.equal(d.hpa.behavior.scaleUp.policies[1].type, 'Pods', 'spec.behavior passed through');
    assert.equal(d.pods.items.length, 2);
    assert.deepEqual(d.pods.items.map((p) => p.name), [...d.pods.items.map((p) => p.name)].sort(), 'sorted by name');
    for (const p of d.pods.items) {
      assert.equal(p.ready, true);
      assert.equal(p.phase, 'Running');
      assert.equal(p.node, 'webapp-cluster-worker');
      assert.match(p.started_at, RFC3339);
      assert.equal(p.cpu_request_millicores, 250);
      assert.equal(p.cpu_millicores, 100, 'nanocores rounded up to millicores');
    }
    assert.equal(d.pods.items.reduce((n, p) => n + p.restarts, 0), 1);
    assert.deepEqual(d.events.items, []);
    assert.match(kube.lastQuery.pods, /^\?labelSelector=app\.kubernetes\.io%2Fname%3Dbackend%2Capp\.kubernetes\.io%2Fpart-of%3Dwebapp$/);
    assert.equal(kube.lastQuery.metrics, kube.lastQuery.pods);
    assert.match(kube.lastQuery.events, /^\?fieldSelector=involvedObject\.kind%3DHorizontalPodAutoscaler%2CinvolvedObject\.name%3Dbackend-hpa$/);

    kube.scaleUp(6);
    kube.setState({ podCpu: { [kube.podName(0)]: 480 } });
    // Each source is published as soon as it is read: wait for all four to have seen the change.
    const pod0 = (x) => x.pods.items.find((p) => p.name === kube.podName(0));
    d = await view.until((x) => x.hpa.desired_replicas === 6 && x.pods.items.length === 6 && x.events.items.length === 1
      && pod0(x)?.cpu_millicores === 480);
    assert.equal(d.hpa.current_replicas, 6);
    assert.equal(d.hpa.current_cpu_utilization, 540);
    assert.equal(d.hpa.current_cpu_millicores, 1350);
    assert.match(d.hpa.last_scale_time, RFC3339);
    assert.equal(d.hpa.conditions[0].reason, 'SucceededRescale');
    assert.equal(d.hpa.conditions[0].message, 'the HPA controller was able to update the target scale to 6');
    assert.equal(d.pods.items.find((p) => p.name === kube.podName(0)).cpu_millicores, 480);
    assert.deepEqual(Object.keys(d.events.items[0]), ['time', 'type', 'reason', 'message', 'count']);
    assert.equal(d.events.items[0].reason, 'SuccessfulRescale');
    assert.equal(d.events.items[0].message, 'New size: 6; reason: cpu resource utilization (percentage of request) above target');
    assert.equal(d.events.items[0].count, 1);
    assert.match(d.events.items[0].time, RFC3339);

    // Newest first, at most 20; a pod not yet scheduled shows as Pending, not ready, no node.
    const base = Date.now() - 100000;
    kube.setState({ pendingPods: 1, events: Array.from({ length: 25 }, (_, i) => ({ time: new Date(base + i * 1000).toISOString().replace(/\.\d+Z/, 'Z'), reason: 'SuccessfulRescale', message: `New size: ${i}` })) });
    d = await view.until((x) => x.events.items.length === 20 && x.pods.items.length === 7);
    assert.equal(d.events.items[0].message, 'New size: 24');
    assert.equal(d.events.items[19].message, 'New size: 5');
    const pending = d.pods.items.find((p) => p.phase === 'Pending');
    assert.deepEqual([pending.ready, pending.node, pending.cpu_millicores], [false, null, null]);
    kube.setState({ pendingPods: 0, events: [] });
  });
});

test('HTTP: health, JSON 404 and 405, no body needed', async () => {
  await withView({}, async (view) => {
    assert.deepEqual((await viewRequest(view.url, '/health/live')).json, { status: 'alive' });
    assert.deepEqual((await viewRequest(view.url, '/health/ready')).json, { status: 'ready' });
    const nf = await viewRequest(view.url, '/api/autoscaler/x');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error, 'not found');
    const na = await viewRequest(view.url, '/api/autoscaler', { method: 'POST', body: {} });
    assert.equal(na.status, 405);
    assert.equal(na.json.error, 'method not allowed');
    assert.equal(na.headers.get('allow'), 'GET, HEAD');
    assert.equal((await viewRequest(view.url, '/api/autoscaler', { method: 'HEAD' })).status, 200);
  });
});

test('one reader for every browser: 40 clients polling cost the same API calls as one', async () => {
  await withView({ VIEW_POLL_MS: '400' }, async (view) => {
    await view.until(allOk);
    kube.resetCalls();
    const t0 = Date.now();
    let answered = 0;
    await Promise.all(Array.from({ length: 40 }, async () => {
      while (Date.now() - t0 < 3000) {
        const r = await viewRequest(view.url, '/api/autoscaler');
        assert.equal(r.status, 200);
        answered++;
        await sleep(20);
      }
    }));
    const elapsed = Date.now() - t0;
    const c = kube.calls();
    const polls = elapsed / 400 + 2;
    assert.ok(answered > 200, `${answered} answers`);
    for (const r of ['hpa', 'pods', 'metrics', 'events']) {
      assert.ok(c[r] >= 2 && c[r] <= polls, `${r}: ${c[r]} reads for ${answered} answers in ${elapsed} ms (at most ${polls.toFixed(1)})`);
    }
  });
});

test('nobody watching: no API call after VIEW_IDLE_SECONDS, reads again on the next request', async () => {
  await withView({ VIEW_IDLE_SECONDS: '1', VIEW_POLL_MS: '200' }, async (view) => {
    await view.until(allOk);
    await sleep(2500); // idle passes, plus a poll in flight at that moment
    kube.resetCalls();
    await sleep(2500);
    assert.deepEqual(kube.calls(), { hpa: 0, pods: 0, metrics: 0, events: 0, unauthorized: 0, total: 0 }, 'no call while idle');
    const stale = await viewRequest(view.url, '/api/autoscaler');
    assert.equal(stale.json.hpa.state, 'ok', 'the last document at once');
    await sleep(700);
    assert.ok(kube.calls().hpa >= 1, 'reading again');
    const idle = view.logs().filter((l) => l.event === 'view.idle');
    assert.ok(idle.length >= 1, 'the idle switch is logged');
  });
});

test('a slow API: state timeout within KUBE_TIMEOUT_MS, the endpoint still answers at once, last good data kept', async () => {
  await withView({ KUBE_TIMEOUT_MS: '2500' }, async (view) => {
    await view.until(allOk);
    kube.respond('hpa', { delayMs: 8000 });
    const d = await view.until((x) => x.hpa.state === 'timeout');
    assert.equal(d.hpa.message, 'no answer from the API server within 2500 ms');
    assert.equal(d.hpa.max_replicas, 10, 'stale data kept');
    assert.equal(d.pods.state, 'ok', 'other sources unaffected');
    for (let i = 0; i < 5; i++) {
      const r = await viewRequest(view.url, '/api/autoscaler');
      assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms while the reader waits 2.5 s on the API`);
    }
    kube.respond('hpa', null);
    await view.until(allOk);
  });
});

test('token: a rotated file is read again; a refused token is unauthorized until a new one is mounted', async () => {
  await withView({}, async (view) => {
    await view.until(allOk);
    // A call in flight at the moment of the rotation may get one 401, then retries: never shown.
    kube.rotateToken();
    const t0 = Date.now();
    while (Date.now() - t0 < 1200) {
      assert.ok(allOk((await viewRequest(view.url, '/api/autoscaler')).json), 'ok throughout the rotation');
      await sleep(50);
    }
    // Rewritten in place (no stat() change): the 401 makes it read the file again and retry once.
    kube.resetCalls();
    kube.rotateToken({ inPlace: true });
    const t1 = Date.now();
    while (Date.now() - t1 < 1200) {
      assert.ok(allOk((await viewRequest(view.url, '/api/autoscaler')).json), 'ok throughout the in-place rotation');
      await sleep(50);
    }
    assert.equal(kube.calls().unauthorized, 1, 'one refused call, then the fresh token');
    assert.ok(kube.calls().hpa >= 3);
    let d;

    kube.revokeToken(); // the server wants a token the pod does not have yet
    d = await view.until((x) => x.hpa.state === 'unauthorized');
    assert.match(d.hpa.message, /refused the ServiceAccount token \(401\)/);
    assert.equal(d.pods.state, 'unauthorized');
    assert.equal(d.hpa.max_replicas, 10, 'stale data kept');
    kube.rotateToken();
    await view.until(allOk);
  });
});

test('403 per source with the missing permission; metrics forbidden only nulls cpu_millicores', async () => {
  await withView({}, async (view) => {
    await view.until(allOk);
    kube.respond('metrics', { status: 403 });
    kube.respond('events', { status: 403 });
    const d = await view.until((x) => x.metrics.state === 'forbidden' && x.events.state === 'forbidden');
    assert.equal(d.metrics.message, 'the ServiceAccount may not list pods.metrics.k8s.io in webapp (403)');
    assert.equal(d.events.message, 'the ServiceAccount may not list events in webapp (403)');
    assert.equal(d.hpa.state, 'ok');
    assert.equal(d.pods.state, 'ok');
    assert.ok(d.pods.items.length >= 2);
    assert.ok(d.pods.items.every((p) => p.cpu_millicores === null && p.cpu_request_millicores === 250));
    kube.respond('hpa', { status: 403 });
    kube.respond('pods', { status: 403 });
    const e = await view.until((x) => x.hpa.state === 'forbidden' && x.pods.state === 'forbidden');
    assert.equal(e.hpa.message, 'the ServiceAccount may not get horizontalpodautoscalers.autoscaling in webapp (403)');
    assert.equal(e.pods.message, 'the ServiceAccount may not list pods in webapp (403)');
  });
});

test('404: metrics API missing; no such HPA', async () => {
  await withView({}, async (view) => {
    await view.until(allOk);
    kube.respond('metrics', { status: 404 });
    const d = await view.until((x) => x.metrics.state === 'not_found');
    assert.equal(d.metrics.message, 'metrics API missing (metrics-server not installed)');
    assert.ok(d.pods.items.every((p) => p.cpu_millicores === null));
  });
  await withView({ HPA_NAME: 'other-hpa' }, async (view) => {
    const d = await view.until((x) => x.hpa.state === 'not_found' && x.pods.state === 'ok' && x.events.state === 'ok');
    assert.equal(d.hpa.message, 'no HorizontalPodAutoscaler other-hpa in webapp');
    assert.equal(d.hpa.name, 'other-hpa');
    assert.equal(d.hpa.max_replicas, null, 'never read: nulls');
    assert.match(kube.lastQuery.events, /involvedObject\.name%3Dother-hpa$/);
  });
});

test('500 and unparsable answers are errors with the status; recovery', async () => {
  await withView({}, async (view) => {
    await view.until(allOk);
    kube.respond('hpa', { status: 500 });
    kube.respond('pods', { body: '{"kind":"PodList","items":' });
    kube.respond('metrics', { status: 503, body: { kind: 'Status', message: 'service unavailable' } });
    const d = await view.until((x) => x.hpa.state === 'error' && x.pods.state === 'error' && x.metrics.state === 'error');
    assert.match(d.hpa.message, /answered 500/);
    assert.match(d.pods.message, /^unparsable answer from the API server/);
    assert.equal(d.metrics.message, 'metrics API unavailable (503): service unavailable');
    assert.ok(d.pods.items.length >= 2, 'stale pods kept');
    for (const r of ['hpa', 'pods', 'metrics']) kube.respond(r, null);
    await view.until(allOk);
  });
});

test('API server down: unreachable within the timeout, then recovery by itself', async () => {
  await withView({}, async (view) => {
    await view.until(allOk);
    await kube.down();
    try {
      const d = await view.until((x) => ['hpa', 'pods', 'metrics', 'events'].every((s) => x[s].state === 'unreachable'));
      assert.match(d.hpa.message, /^cannot reach the API server: /);
      assert.equal(d.hpa.max_replicas, 10, 'stale data kept');
      const r = await viewRequest(view.url, '/api/autoscaler');
      assert.ok(r.ms < 1000, `answered in ${r.ms.toFixed(0)} ms`);
    } finally {
      await kube.up();
    }
    await view.until(allOk);
  });
});

test('TLS: a server certificate not signed by ca.crt is refused (unreachable, TLS message), nothing sent', async () => {
  const sa = kube.otherCaSaDir();
  kube.resetCalls();
  await withView({ KUBE_SA_DIR: sa }, async (view) => {
    const d = await view.until((x) => x.hpa.state === 'unreachable' && x.events.state === 'unreachable');
    assert.match(d.hpa.message, /^TLS failure with the API server: .*(certificate|SSL)/i);
    assert.equal(kube.calls().total, 0, 'no request reached the server');
  });
});

test('missing token file: unauthorized with the path, no request sent', async () => {
  const sa = join(dir, 'sa-no-token');
  rmSync(sa, { recursive: true, force: true });
  mkdirSync(sa);
  copyFileSync(kube.caPath, join(sa, 'ca.crt'));
  writeFileSync(join(sa, 'namespace'), 'webapp');
  kube.resetCalls();
  await withView({ KUBE_SA_DIR: sa }, async (view) => {
    const d = await view.until((x) => x.hpa.state === 'unauthorized');
    assert.match(d.hpa.message, /cannot read the ServiceAccount token .*sa-no-token\/token/);
    assert.equal(kube.calls().total, 0);
  });
});

test('local mode against a real backend: one process, CPU from /proc, readiness from the backend', async () => {
  const deps = await new Stack().start();
  const be = await new Backend(deps).start();
  const pidFile = join(deps.dir, 'backend.pid');
  writeFileSync(pidFile, `${be.proc.pid}\n`);
  const view = await new View({ dir: deps.dir, env: { LOCAL_PID_FILE: pidFile, LOCAL_BACKEND_URL: be.url } }).start();
  try {
    const d = await view.until((x) => x.pods.state === 'ok' && x.pods.items[0]?.cpu_millicores !== null);
    checkShape(d);
    assert.equal(d.mode, 'local');
    assert.equal(d.namespace, 'local');
    assert.match(d.hint, /^Local mode: one backend process, no autoscaler/);
    assert.equal(d.hpa.state, 'local');
    assert.deepEqual([d.hpa.min_replicas, d.hpa.max_replicas, d.hpa.current_replicas, d.hpa.desired_replicas], [1, 1, 1, 1]);
    assert.deepEqual([d.hpa.target_cpu_utilization, d.hpa.last_scale_time, d.hpa.behavior], [null, null, null]);
    assert.deepEqual(d.hpa.conditions, []);
    assert.equal(d.metrics.state, 'ok');
    assert.equal(d.events.state, 'local');
    assert.deepEqual(d.events.items, []);
    assert.equal(d.pods.items.length, 1);
    const p = d.pods.items[0];
    assert.equal(p.name, `it-${be.port}`, 'the name the backend serves as');
    assert.deepEqual([p.ready, p.phase, p.restarts, p.cpu_request_millicores], [true, 'Running', 0, null]);
    assert.match(p.started_at, RFC3339);
    assert.ok(Math.abs(Date.parse(p.started_at) - Date.now()) < 120000, `started_at ${p.started_at}`);
    assert.ok(Number.isInteger(p.cpu_millicores) && p.cpu_millicores >= 0);

    // Burn CPU in the backend: the measured use goes up.
    const burn = request(be.url, '/api/stress?ms=2000', { timeout: 15000 }).catch(() => null);
    const hot = await view.until((x) => x.pods.items[0]?.cpu_millicores >= 100, 10000);
    assert.ok(hot.pods.items[0].cpu_millicores <= 1100 * 4, 'a plausible number');
    await burn;

    await be.stop();
    const gone = await view.until((x) => x.pods.state === 'unreachable');
    assert.match(gone.pods.message, /not running/);
    assert.deepEqual(gone.pods.items, []);
  } finally {
    assert.equal((await view.stop()).code, 0);
    await be.stop().catch(() => {});
    await deps.stop();
  }
});

// nginx from the real template: /api/autoscaler proxied to the view, or a JSON 503 saying why not.
test('nginx: /api/autoscaler proxied to the view; JSON 503 when not configured or not running', async () => {
  const view = await new View({ dir, kube }).start();
  const viaNginx = new Frontend(dir, 'http://127.0.0.1:9', { name: 'nginx-on', env: { AUTOSCALER_URL: view.url } });
  const unset = new Frontend(dir, 'http://127.0.0.1:9', { name: 'nginx-off' });
  try {
    await viaNginx.start(await freePort());
    await unset.start(await freePort());
    await view.until(allOk);
    const r = await viewRequest(viaNginx.url, '/api/autoscaler');
    assert.equal(r.status, 200);
    assert.equal(r.json.mode, 'cluster');
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const off = await viewRequest(unset.url, '/api/autoscaler');
    assert.equal(off.status, 503);
    assert.match(off.headers.get('content-type'), /^application\/json/);
    assert.match(off.json.error, /^autoscaler view not configured/);
    assert.ok(off.json.request_id);
    assert.equal((await viewRequest(unset.url, '/api/users')).status, 502, 'other /api/ paths still go to the backend');

    assert.equal((await view.stop()).code, 0);
    const down = await viewRequest(viaNginx.url, '/api/autoscaler');
    assert.equal(down.status, 503);
    assert.match(down.json.error, /^autoscaler view unavailable/);
  } finally {
    await view.stop().catch(() => {});
    await viaNginx.stop();
    await unset.stop();
  }
});
