// Cache correctness under concurrency and Redis outages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/stack.mjs';
import { Backend } from '../lib/backend.mjs';
import { apiRequest as request } from '../lib/openapi.mjs';

let deps, a, b;

before(async () => {
  deps = await new Stack().start();
  // Two replicas sharing PostgreSQL and Redis, as in the cluster.
  a = await new Backend(deps).start();
  b = await new Backend(deps).start();
});
after(async () => {
  const ea = await a?.stop();
  const eb = await b?.stop();
  await deps?.stop();
  assert.equal(ea?.code, 0);
  assert.equal(eb?.code, 0);
});

test('read-your-writes across replicas: after concurrent writes and reads, every read shows the last write', async () => {
  const c = await request(a.url, '/api/users', { method: 'POST', body: { name: 'v0', email: 'race@example.com' } });
  const id = c.json.id;
  for (let round = 1; round <= 25; round++) {
    // Readers hammer both replicas (filling the cache with whatever they saw) while a write lands.
    const readers = [];
    for (let i = 0; i < 8; i++) {
      const be = i % 2 ? a : b;
      readers.push(request(be.url, `/api/users/${id}`), request(be.url, '/api/users?limit=5'));
    }
    const w = await request(round % 2 ? a.url : b.url, `/api/users/${id}`, {
      method: 'PUT', body: { name: `v${round}`, email: 'race@example.com' },
    });
    assert.equal(w.status, 200);
    await Promise.all(readers);
    // Every later read, on either replica, cached or not, reflects the acknowledged write.
    for (const be of [a, b, a, b]) {
      const one = await request(be.url, `/api/users/${id}`);
      assert.equal(one.json.name, `v${round}`, `round ${round} single read (${one.headers.get('x-cache')})`);
      const page = await request(be.url, '/api/users?limit=5');
      assert.equal(page.json.find((u) => u.id === id).name, `v${round}`, `round ${round} list read`);
    }
  }
});

test('a miss computed before a write is never served after it', async () => {
  // Play the slow reader of the classic race by hand: it learned the generation and read the
  // old row before the write, and stores that old body only after the write was acknowledged.
  const c = await request(a.url, '/api/users', { method: 'POST', body: { name: 'old', email: 'slow@example.com' } });
  const id = c.json.id;
  await request(b.url, `/api/users/${id}`); // makes sure the generation exists
  const gen = deps.redis('GET', 'users:gen:user');
  assert.match(gen, /^\d+$/);
  const w = await request(a.url, `/api/users/${id}`, { method: 'PUT', body: { name: 'new', email: 'slow@example.com' } });
  assert.equal(w.status, 200);
  deps.redis('SET', `users:user:${id}`, `${gen}\n${c.body}`, 'EX', '300');
  for (const be of [a, b, a, b]) {
    const r = await request(be.url, `/api/users/${id}`);
    assert.equal(r.json.name, 'new', `stale store was served (${r.headers.get('x-cache')})`);
  }
  assert.notEqual(deps.redis('GET', 'users:gen:user'), gen, 'the write moved the generation');
});

test('a create makes pages miss but keeps single users cached', async () => {
  const c = await request(a.url, '/api/users', { method: 'POST', body: { name: 'Kept', email: 'kept@example.com' } });
  const path = `/api/users/${c.json.id}`;
  await request(a.url, path);
  await request(b.url, '/api/users?limit=3');
  assert.equal((await request(a.url, path)).headers.get('x-cache'), 'HIT');
  assert.equal((await request(b.url, '/api/users?limit=3')).headers.get('x-cache'), 'HIT');
  const n = await request(b.url, '/api/users', { method: 'POST', body: { name: 'Newer', email: 'newer@example.com' } });
  assert.equal(n.status, 201);
  const user = await request(a.url, path);
  assert.equal(user.headers.get('x-cache'), 'HIT', 'a create cannot make an existing user stale');
  const page = await request(a.url, '/api/users?limit=3');
  assert.equal(page.headers.get('x-cache'), 'MISS', 'pages follow every write');
  assert.equal(page.json[0].id, n.json.id, 'the new user is on the first page at once');
  // A delete invalidates single users too.
  assert.equal((await request(b.url, path, { method: 'DELETE' })).status, 204);
  assert.equal((await request(a.url, path)).status, 404);
});

test('equivalent queries share one cache key: thousands of them grow Redis by a constant', async () => {
  const ids = [];
  for (let i = 0; i < 3; i++) {
    const c = await request(a.url, '/api/users', { method: 'POST', body: { name: `k${i}`, email: `keys${i}@example.com` } });
    ids.push(c.json.id);
  }
  const newest = Math.max(...ids);
  const keys = () => Number(deps.redis('DBSIZE'));
  // Warm the keys the equivalent forms map to, then count.
  await request(a.url, '/api/users?limit=2');
  await request(a.url, `/api/users/${ids[0]}`);
  const start = keys();
  const paths = [];
  for (let i = 1; i <= 1500; i++) paths.push(`/api/users?limit=2&before=${newest + i}`); // all the first page
  for (let i = 1; i <= 200; i++) paths.push(`/api/users/${'0'.repeat(i % 12 + 1)}${ids[0]}`); // 007 is 7
  for (let i = 1; i <= 200; i++) paths.push(`/api/users?limit=${'0'.repeat(i % 12 + 1)}2&before=${newest + 5000 + i}`);
  paths.push(`/api/users?limit=2&before=${'0'.repeat(5)}${newest + 1}`, '/api/users?limit=02');
  let next = 0;
  const bodies = new Set();
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next < paths.length) {
      const path = paths[next++];
      const r = await request(path.includes('?') ? a.url : b.url, path);
      assert.equal(r.status, 200, path);
      if (path.includes('?')) bodies.add(r.body);
    }
  }));
  assert.equal(bodies.size, 1, 'every equivalent page query returned the same page');
  const grown = keys() - start;
  assert.ok(grown <= 1, `${paths.length} equivalent queries added ${grown} Redis keys`);
});

test('Redis down: requests still succeed and /health is degraded; back: hits resume within 5 s', async () => {
  const c = await request(a.url, '/api/users', { method: 'POST', body: { name: 'Redis', email: 'redis@example.com' } });
  const path = `/api/users/${c.json.id}`;
  await request(a.url, path);
  assert.equal((await request(a.url, path)).headers.get('x-cache'), 'HIT');

  deps.stopRedis();
  // Requests keep flowing while it goes away: none fails.
  for (let i = 0; i < 40; i++) {
    const r = await request(a.url, i % 2 ? path : '/api/users?limit=3');
    assert.equal(r.status, 200, `request ${i} during the outage`);
  }
  const w = await request(a.url, path, { method: 'PUT', body: { name: 'Written while Redis was down', email: 'redis@example.com' } });
  assert.equal(w.status, 200);
  await a.waitFor('/health', 200, 5000);
  let h;
  for (let i = 0; i < 50; i++) {
    h = await request(a.url, '/health');
    if (h.json.status === 'degraded') break;
    await sleep(100);
  }
  assert.equal(h.status, 200);
  assert.equal(h.json.status, 'degraded');
  assert.equal(h.json.checks.redis.status, 'down');
  assert.equal((await request(a.url, '/health/ready')).status, 200, 'Redis is not needed to be ready');

  deps.startRedis();
  const t0 = Date.now();
  let hit = false;
  while (Date.now() - t0 < 5000 && !hit) {
    const r = await request(a.url, path);
    assert.equal(r.status, 200);
    assert.equal(r.json.name, 'Written while Redis was down');
    hit = r.headers.get('x-cache') === 'HIT';
    if (!hit) await sleep(100);
  }
  assert.ok(hit, 'cache hits resumed within 5 s without a restart');
  let status;
  for (let i = 0; i < 50 && status !== 'healthy'; i++) {
    status = (await request(a.url, '/health')).json.status;
    if (status !== 'healthy') await sleep(100);
  }
  assert.equal(status, 'healthy', '/health is healthy again within 5 s');
});

test('a write whose invalidation could not reach Redis is still never read stale', async () => {
  const c = await request(a.url, '/api/users', { method: 'POST', body: { name: 'before', email: 'pending@example.com' } });
  const path = `/api/users/${c.json.id}`;
  await request(a.url, path);
  assert.equal((await request(a.url, path)).headers.get('x-cache'), 'HIT');
  // Pause Redis (it keeps its data) so the write's generation bump times out.
  deps.redis('CLIENT', 'PAUSE', '1500', 'ALL');
  const w = await request(a.url, path, { method: 'PUT', body: { name: 'after', email: 'pending@example.com' } });
  assert.equal(w.status, 200);
  await sleep(1700);
  for (let i = 0; i < 10; i++) {
    const r = await request(a.url, path);
    assert.equal(r.json.name, 'after', `read ${i} (${r.headers.get('x-cache')})`);
    await sleep(150);
  }
});
