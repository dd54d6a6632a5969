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

for (const threads of ['4', '0']) {
  test(`all stress slots busy (HTTP_THREADS=${threads}): live and ready keep answering, extra stress gets 429 with Retry-After`, async () => {
    const be = await new Backend(deps, { STRESS_SLOTS: '2', HTTP_THREADS: threads }).start();
    try {
      const burns = [request(be.url, '/api/stress?ms=2500', { timeout: 30000 }),
        request(be.url, '/api/stress?ms=2500', { timeout: 30000 })];
      await sleep(300);
      const extra = await request(be.url, '/api/stress?ms=10');
      assert.equal(extra.status, 429);
      assert.equal(extra.headers.get('retry-after'), '1');
      assert.ok(extra.json.error);
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
      for (const r of await Promise.all(burns)) assert.equal(r.status, 200);
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
