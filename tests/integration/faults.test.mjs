// PostgreSQL outages: at startup and while serving.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, sleep } from '../lib/stack.mjs';
import { Backend } from '../lib/backend.mjs';
import { apiRequest as request } from '../lib/openapi.mjs';

let deps;

before(async () => { deps = await new Stack().start(); });
after(async () => { await deps?.stop(); });

test('PostgreSQL down at startup: live 200, ready 503, then it migrates and becomes ready by itself', async () => {
  deps.stopPg();
  const be = await new Backend(deps).start({ waitReady: false });
  try {
    assert.equal((await request(be.url, '/health/live')).status, 200);
    const ready = await request(be.url, '/health/ready');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.status, 'not ready');
    assert.ok(ready.json.reason);
    const health = await request(be.url, '/health');
    assert.equal(health.status, 503);
    assert.equal(health.json.status, 'unhealthy');
    const users = await request(be.url, '/api/users');
    assert.equal(users.status, 503);
    assert.ok(users.json.error);
    deps.startPg();
    await be.waitFor('/health/ready', 200, 10000);
    const c = await request(be.url, '/api/users', { method: 'POST', body: { name: 'Late', email: 'late@example.com' } });
    assert.equal(c.status, 201, 'the schema was created after PostgreSQL came up');
  } finally {
    assert.equal((await be.stop()).code, 0);
  }
});

test('PostgreSQL stopped while serving: cached reads 200, uncached 503 within the timeout, ready 503; recovery within 5 s', async () => {
  const be = await new Backend(deps, { DB_STATEMENT_TIMEOUT_MS: '1000' }).start();
  try {
    const c = await request(be.url, '/api/users', { method: 'POST', body: { name: 'Cached', email: 'cached@example.com' } });
    const path = `/api/users/${c.json.id}`;
    await request(be.url, path);
    await request(be.url, '/api/users?limit=7');

    deps.stopPg();
    const hit = await request(be.url, path);
    assert.equal(hit.status, 200, 'cached user still served');
    assert.equal(hit.headers.get('x-cache'), 'HIT');
    assert.equal((await request(be.url, '/api/users?limit=7')).status, 200, 'cached page still served');
    for (const p of ['/api/users/999999', '/api/users?limit=8']) {
      const r = await request(be.url, p);
      assert.equal(r.status, 503, p);
      assert.ok(r.ms < 3000, `${p} answered in ${r.ms.toFixed(0)} ms`);
      assert.doesNotMatch(r.body, /connect|socket|postgres|SQL/i, 'no internals in the error');
    }
    const w = await request(be.url, '/api/users', { method: 'POST', body: { name: 'X', email: 'x@example.com' } });
    assert.equal(w.status, 503);
    let ready;
    for (let i = 0; i < 30; i++) {
      ready = await request(be.url, '/health/ready');
      if (ready.status === 503) break;
      await sleep(100);
    }
    assert.equal(ready.status, 503);
    assert.equal((await request(be.url, '/health/live')).status, 200);

    deps.startPg();
    const t0 = Date.now();
    await be.waitFor('/health/ready', 200, 5000);
    let ok = false;
    while (Date.now() - t0 < 5000 && !ok) {
      ok = (await request(be.url, '/api/users/999999')).status === 404;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'uncached reads recovered within 5 s');
    const again = await request(be.url, '/api/users', { method: 'POST', body: { name: 'Y', email: 'y@example.com' } });
    assert.equal(again.status, 201, 'writes recovered');
  } finally {
    assert.equal((await be.stop()).code, 0);
  }
});

// Signal the postmaster we started and its children (found by parent pid, never by name).
function signalPostgres(deps, sig) {
  const master = readFileSync(join(deps.dir, 'pg/data/postmaster.pid'), 'utf8').split('\n')[0].trim();
  const children = execFileSync('ps', ['--ppid', master, '-o', 'pid='], { encoding: 'utf8' }).split('\n').map((p) => p.trim()).filter(Boolean);
  for (const pid of [master, ...children]) process.kill(Number(pid), sig);
}

test('PostgreSQL frozen (no replies at all): 503 within the timeout, ready 503, recovery after', async () => {
  const be = await new Backend(deps, { DB_STATEMENT_TIMEOUT_MS: '1000' }).start();
  try {
    assert.equal((await request(be.url, '/api/users/9000001')).status, 404); // pooled connection in use
    signalPostgres(deps, 'SIGSTOP');
    try {
      const r = await request(be.url, '/api/users/9000002', { timeout: 10000 });
      assert.equal(r.status, 503);
      assert.ok(r.ms < 2500, `answered in ${r.ms.toFixed(0)} ms`);
      assert.equal((await request(be.url, '/health/live')).status, 200);
      let ready;
      for (let i = 0; i < 40; i++) {
        ready = await request(be.url, '/health/ready');
        if (ready.status === 503) break;
        await sleep(100);
      }
      assert.equal(ready.status, 503, 'the monitor noticed');
      assert.ok(ready.ms < 1000, 'readiness itself never waits on the database');
    } finally {
      signalPostgres(deps, 'SIGCONT');
    }
    await be.waitFor('/health/ready', 200, 8000);
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = (await request(be.url, '/api/users/9000003')).status === 404;
      if (!ok) await sleep(100);
    }
    assert.ok(ok, 'recovered');
  } finally {
    assert.equal((await be.stop()).code, 0);
  }
});

test('one event thread: CPU burns and queries stuck on a frozen PostgreSQL hold up no other request', async () => {
  const be = await new Backend(deps, { HTTP_THREADS: '1', STRESS_SLOTS: '2', DB_POOL_SIZE: '2',
    DB_STATEMENT_TIMEOUT_MS: '2000' }).start();
  try {
    const created = await request(be.url, '/api/users', { method: 'POST', body: { name: 'Ada', email: `ada-${Date.now()}@example.com` } });
    assert.equal(created.status, 201);
    const path = `/api/users/${created.json.id}`;
    await request(be.url, path); // fills the cache
    const burns = [1, 2].map(() => request(be.url, '/api/stress?ms=2000', { timeout: 30000 }));
    signalPostgres(deps, 'SIGSTOP');
    let stuck;
    try {
      stuck = [1, 2, 3].map((i) => request(be.url, `/api/users/${9100000 + i}`, { timeout: 30000 }));
      await sleep(200);
      for (let i = 0; i < 10; i++) {
        const live = await request(be.url, '/health/live');
        assert.equal(live.status, 200);
        assert.ok(live.ms < 500, `live took ${live.ms.toFixed(0)} ms`);
        const hit = await request(be.url, path);
        assert.equal(hit.status, 200);
        assert.equal(hit.headers.get('x-cache'), 'HIT');
        assert.ok(hit.ms < 500, `a cached read took ${hit.ms.toFixed(0)} ms`);
      }
      const m = await request(be.url, '/metrics');
      assert.match(m.body, /^stress_in_flight 2$/m, 'the burns were running all along');
    } finally {
      signalPostgres(deps, 'SIGCONT');
    }
    for (const r of await Promise.all(burns)) assert.equal(r.status, 200);
    for (const r of await Promise.all(stuck)) {
      assert.ok([503, 404].includes(r.status), `a stuck read got ${r.status}`);
      assert.ok(r.ms < 3500, `a stuck read took ${r.ms.toFixed(0)} ms`);
    }
  } finally {
    assert.equal((await be.stop()).code, 0);
  }
});
