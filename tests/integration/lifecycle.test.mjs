// Shutdown, stress slots and configuration errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Stack, sleep } from '../lib/stack.mjs';
import { Backend, BACKEND } from '../lib/backend.mjs';
import { apiRequest as request } from '../lib/openapi.mjs';

let deps;
before(async () => { deps = await new Stack().start(); });
after(async () => { await deps?.stop(); });

test('SIGTERM: readiness 503 during the drain, in-flight requests complete, exit 0', async () => {
  const be = await new Backend(deps, { SHUTDOWN_DRAIN_SECONDS: '2', STRESS_SLOTS: '4' }).start();
  const inflight = [];
  for (let i = 0; i < 4; i++) inflight.push(request(be.url, '/api/stress?ms=1500', { timeout: 20000 }));
  await sleep(200);
  const t0 = Date.now();
  be.proc.kill('SIGTERM');
  await sleep(200);
  const ready = await request(be.url, '/health/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.json.reason, 'shutting down');
  assert.equal(ready.headers.get('connection'), 'close', 'keep-alive clients are moved away');
  // Still serving other requests during the drain.
  assert.equal((await request(be.url, '/api/users')).status, 200);
  const results = await Promise.all(inflight);
  for (const r of results) assert.equal(r.status, 200, 'in-flight request completed');
  const exit = await be.stop();
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 >= 1900, 'the drain lasted SHUTDOWN_DRAIN_SECONDS');
  const events = be.logs().map((l) => l.event);
  assert.ok(events.includes('server.draining'));
  assert.ok(events.includes('server.stopped'));
});

test('SIGINT skips the drain and exits 0', async () => {
  const be = await new Backend(deps, { SHUTDOWN_DRAIN_SECONDS: '30' }).start();
  const t0 = Date.now();
  const exit = await be.stop('SIGINT');
  assert.equal(exit.code, 0);
  assert.ok(Date.now() - t0 < 5000);
});

// Every slot busy: a stress request waits up to STRESS_WAIT_MS for one, suspended (it holds no
// thread), then gets 429 at that bound, not when a slot frees up.
for (const threads of ['4', '0']) {
  test(`all stress slots busy (HTTP_THREADS=${threads}): live and ready keep answering, extra stress gets 429 with Retry-After after STRESS_WAIT_MS`, async () => {
    const be = await new Backend(deps, { STRESS_SLOTS: '2', STRESS_WAIT_MS: '600', HTTP_THREADS: threads }).start();
    try {
      const burns = [request(be.url, '/api/stress?ms=3000', { timeout: 30000 }),
        request(be.url, '/api/stress?ms=3000', { timeout: 30000 })];
      await sleep(300);
      const extra = await request(be.url, '/api/stress?ms=10', { timeout: 30000 });
      assert.equal(extra.status, 429);
      assert.equal(extra.headers.get('retry-after'), '1');
      assert.match(extra.json.error, /busy for 600 ms/);
      // The burns hold their slots for at least 2.7 s more: a refusal sent when one frees up
      // would come after that.
      assert.ok(extra.ms >= 500 && extra.ms < 2500, `refused after ${extra.ms.toFixed(0)} ms`);
      for (let i = 0; i < 10; i++) {
        const live = await request(be.url, '/health/live');
        assert.equal(live.status, 200);
        assert.ok(live.ms < 1000, `live took ${live.ms} ms`);
        const ready = await request(be.url, '/health/ready');
        assert.equal(ready.status, 200);
        assert.ok(ready.ms < 1000, `ready took ${ready.ms} ms`);
      }
      const m = await request(be.url, '/metrics');
      assert.match(m.body, /^stress_in_flight 2$/m);
      assert.match(m.body, /^stress_refused_total 1$/m);
      assert.match(m.body, /^stress_waiting 0$/m);
      for (const r of await Promise.all(burns)) assert.equal(r.status, 200);
    } finally {
      assert.equal((await be.stop()).code, 0);
    }
  });
}

const metric = (body, name) => Number((body.match(new RegExp(`^${name} (\\S+)$`, 'm')) || [])[1]);

for (const threads of ['4', '1', '0']) {
  test(`more stress requests than slots (HTTP_THREADS=${threads}): the extra ones wait for a slot and succeed`, async () => {
    const be = await new Backend(deps, { STRESS_SLOTS: '2', STRESS_WAIT_MS: '20000', HTTP_THREADS: threads }).start();
    try {
      const all = await Promise.all([1, 2, 3, 4].map(() => request(be.url, '/api/stress?ms=400', { timeout: 60000 })));
      for (const r of all) assert.equal(r.status, 200, `${r.status} ${r.body}`);
      // Two burns of 400 ms of CPU each came before the last one could start.
      const slowest = Math.max(...all.map((r) => r.ms));
      assert.ok(slowest >= 750, `the slowest answer took only ${slowest.toFixed(0)} ms`);
      const m = (await request(be.url, '/metrics')).body;
      assert.equal(metric(m, 'stress_refused_total'), 0);
      assert.equal(metric(m, 'stress_waiting'), 0);
      assert.equal(metric(m, 'stress_wait_seconds_count'), 4);
      const waitedLong = metric(m, 'stress_wait_seconds_bucket\\{le="\\+Inf"\\}') - metric(m, 'stress_wait_seconds_bucket\\{le="0.25"\\}');
      assert.ok(waitedLong >= 2, `${waitedLong} requests waited more than 0.25 s for a slot`);
    } finally {
      assert.equal((await be.stop()).code, 0);
    }
  });
}

for (const threads of ['4', '1']) {
  test(`a flood of stress requests (HTTP_THREADS=${threads}): each is refused at STRESS_WAIT_MS; probes and cached reads stay fast`, async () => {
    const be = await new Backend(deps, { STRESS_SLOTS: '2', STRESS_WAIT_MS: '800', HTTP_THREADS: threads }).start();
    try {
      const created = await request(be.url, '/api/users', { method: 'POST', body: { name: 'Flo', email: `flo-${threads}-${Date.now()}@example.com` } });
      assert.equal(created.status, 201);
      const path = `/api/users/${created.json.id}`;
      await request(be.url, path); // fills the cache
      const burns = [1, 2].map(() => request(be.url, '/api/stress?ms=3000', { timeout: 30000 }));
      await sleep(200);
      const flood = Array.from({ length: 20 }, () => request(be.url, '/api/stress?ms=3000', { timeout: 30000 }));
      await sleep(200);
      let waiting = 0;
      for (let i = 0; i < 5; i++) {
        const live = await request(be.url, '/health/live');
        assert.equal(live.status, 200);
        assert.ok(live.ms < 1000, `live took ${live.ms.toFixed(0)} ms`);
        const ready = await request(be.url, '/health/ready');
        assert.equal(ready.status, 200);
        assert.ok(ready.ms < 1000, `ready took ${ready.ms.toFixed(0)} ms`);
        const hit = await request(be.url, path);
        assert.equal(hit.status, 200);
        assert.equal(hit.headers.get('x-cache'), 'HIT');
        assert.ok(hit.ms < 1000, `a cached read took ${hit.ms.toFixed(0)} ms`);
        waiting = Math.max(waiting, metric((await request(be.url, '/metrics')).body, 'stress_waiting'));
      }
      assert.ok(waiting > 0, 'the flood was seen waiting for a slot');
      for (const r of await Promise.all(flood)) {
        assert.equal(r.status, 429, r.body);
        assert.equal(r.headers.get('retry-after'), '1');
        // At the bound (800 ms); the burns hold both slots for 2.8 s more than that.
        assert.ok(r.ms >= 700 && r.ms < 2600, `refused after ${r.ms.toFixed(0)} ms`);
      }
      for (const r of await Promise.all(burns)) assert.equal(r.status, 200);
      const m = (await request(be.url, '/metrics')).body;
      assert.equal(metric(m, 'stress_refused_total'), 20);
      assert.equal(metric(m, 'stress_waiting'), 0);
    } finally {
      assert.equal((await be.stop()).code, 0);
    }
  });
}

test('invalid configuration exits 2 naming the variable; --help and --version', () => {
  for (const [name, value] of [['SERVER_PORT', '70000'], ['LOG_LEVEL', 'loud'], ['DB_POOL_SIZE', 'x']]) {
    const r = spawnSync(BACKEND, [], { env: { PATH: process.env.PATH, [name]: value }, encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 2, `${name}=${value}`);
    assert.match(r.stderr, new RegExp(name));
  }
  const help = spawnSync(BACKEND, ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^\s+DB_HOST\s+localhost/m);
  const version = spawnSync(BACKEND, ['--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^backend \S+/);
});

test('secrets are never logged', async () => {
  const be = await new Backend(deps, { DB_PASSWORD: 'Sup3rSecretPw-42', LOG_LEVEL: 'debug' }).start();
  await request(be.url, '/api/users');
  await request(be.url, '/health');
  const m = await request(be.url, '/metrics');
  assert.equal((await be.stop()).code, 0);
  const all = JSON.stringify(be.logs()) + be.stderr() + m.body;
  assert.doesNotMatch(all, /Sup3rSecretPw-42/);
});
