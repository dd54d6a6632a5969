// The API contract, end to end against real PostgreSQL and Redis, sent to the backend directly
// and through nginx (the real template in front of it): the same cases, the same statuses.
// Every response is also checked against backend/openapi.yaml by apiRequest()
// (tests/lib/openapi.mjs).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Stack, sleep, ROOT } from '../lib/stack.mjs';
import { Backend, BACKEND } from '../lib/backend.mjs';
import { target, VIA } from '../lib/frontend.mjs';
import { apiRequest as request, checkResponse, SPEC } from '../lib/openapi.mjs';

const MAX_BODY_BYTES = 65536;
const STATEMENT_TIMEOUT_MS = 1000;
let deps;
const uniq = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;

before(async () => { deps = await new Stack().start(); });
after(async () => { await deps?.stop(); });

for (const via of VIA) describe(`via ${via}`, () => {
  let be, front, url;
  const create = (name, email) => request(url, '/api/users', { method: 'POST', body: { name, email } });

  before(async () => {
    be = await new Backend(deps, { STRESS_SLOTS: '1', STRESS_WAIT_MS: '200', DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS) }).start();
    // Each pass starts from an empty table and an empty cache (the backend has migrated).
    deps.psql('TRUNCATE users RESTART IDENTITY');
    deps.redis('FLUSHALL');
    front = await target(via, be);
    url = front.url;
  });
  after(async () => {
    await front?.stop();
    const exit = await be?.stop();
    assert.equal(exit?.code, 0, 'backend exits 0 on SIGTERM');
  });

  test('empty table lists [] with JSON content type, request id and served-by', async () => {
    const r = await request(url, '/api/users');
    assert.equal(r.status, 200);
    assert.equal(r.body, '[]');
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.match(r.headers.get('x-request-id'), /^[A-Za-z0-9._-]{1,64}$/);
    assert.equal(r.headers.get('x-served-by'), `it-${be.port}`);
    assert.equal(r.headers.get('link'), null);
  });

  test('create, read, update, delete a user', async () => {
    const email = `ada.${uniq()}@example.com`;
    const c = await create('  Ada Lovelace ', ` ${email} `);
    assert.equal(c.status, 201);
    assert.equal(c.json.name, 'Ada Lovelace');
    assert.equal(c.json.email, email);
    assert.ok(Number.isInteger(c.json.id) && c.json.id > 0);
    assert.match(c.json.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.deepEqual(Object.keys(c.json), ['id', 'name', 'email', 'created_at']);
    assert.equal(c.headers.get('location'), `/api/users/${c.json.id}`);

    const g = await request(url, `/api/users/${c.json.id}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, c.json);

    const u = await request(url, `/api/users/${c.json.id}`, { method: 'PUT', body: { name: 'Ada King', email } });
    assert.equal(u.status, 200);
    assert.equal(u.json.name, 'Ada King');
    assert.equal(u.json.created_at, c.json.created_at);
    const g2 = await request(url, `/api/users/${c.json.id}`);
    assert.equal(g2.json.name, 'Ada King', 'read after update sees the update');

    const d = await request(url, `/api/users/${c.json.id}`, { method: 'DELETE' });
    assert.equal(d.status, 204);
    assert.equal(d.body, '');
    assert.equal((await request(url, `/api/users/${c.json.id}`)).status, 404);
    assert.equal((await request(url, `/api/users/${c.json.id}`, { method: 'DELETE' })).status, 404);
    assert.equal((await request(url, `/api/users/${c.json.id}`, { method: 'PUT', body: { name: 'x', email } })).status, 404);
  });

  test('duplicate email is 409 regardless of case, and nothing is inserted', async () => {
    const email = `grace.${uniq()}@example.com`;
    assert.equal((await create('Grace', email)).status, 201);
    const before = deps.psql('SELECT count(*) FROM users');
    const dup = await create('Grace Again', email.toUpperCase());
    assert.equal(dup.status, 409);
    assert.equal(dup.json.field, 'email');
    assert.match(dup.json.error, /already exists/);
    assert.ok(dup.json.request_id);
    assert.doesNotMatch(dup.body, /duplicate key|constraint|SQL/i);
    assert.equal(deps.psql('SELECT count(*) FROM users'), before);
    // Updating another user to that email conflicts too.
    const other = await create('Other', `other.${uniq()}@example.com`);
    const u = await request(url, `/api/users/${other.json.id}`, { method: 'PUT', body: { name: 'Other', email } });
    assert.equal(u.status, 409);
  });

  test('invalid bodies get 400 with the field, and create nothing', async () => {
    const before = deps.psql('SELECT count(*) FROM users');
    const cases = [
      ['not json', undefined],
      ['{"name":', undefined],
      ['[]', undefined],
      ['{}', 'name'],
      ['{"name":"A"}', 'email'],
      ['{"name":"","email":"a@b.co"}', 'name'],
      ['{"name":"   ","email":"a@b.co"}', 'name'],
      [JSON.stringify({ name: 'x'.repeat(101), email: 'a@b.co' }), 'name'],
      [JSON.stringify({ name: 'A', email: `${'a'.repeat(250)}@b.co` }), 'email'],
      ['{"name":"A","email":"not-an-email"}', 'email'],
      ['{"name":"A","email":"a@b"}', 'email'],
      ['{"name":"A","email":"a b@c.de"}', 'email'],
      ['{"name":"A","email":"a@b.co","role":"admin"}', 'role'],
      ['{"name":42,"email":"a@b.co"}', 'name'],
      ['{"name":"A\\u0007","email":"a@b.co"}', 'name'],
    ];
    for (const [body, field] of cases) {
      const r = await request(url, '/api/users', { method: 'POST', body });
      assert.equal(r.status, 400, body);
      assert.equal(typeof r.json.error, 'string', body);
      assert.equal(r.json.field, field, body);
      assert.equal(r.json.request_id, r.headers.get('x-request-id'));
    }
    const noBody = await request(url, '/api/users', { method: 'POST' });
    assert.equal(noBody.status, 400);
    assert.equal(deps.psql('SELECT count(*) FROM users'), before);
  });

  test('body over MAX_BODY_BYTES is 413 JSON (POST and PUT, Content-Length and chunked, just and far over); at the limit it is read', async () => {
    const user = await create('Limit', `limit.${uniq()}@example.com`);
    // A valid body padded with spaces to exactly n bytes.
    const sized = (n, email) => {
      const json = JSON.stringify({ name: 'Limit', email });
      return json + ' '.repeat(n - json.length);
    };
    for (const [method, path] of [['POST', '/api/users'], ['PUT', `/api/users/${user.json.id}`]]) {
      for (const chunked of [false, true]) {
        const how = `${method} ${chunked ? 'chunked' : 'Content-Length'}`;
        for (const size of [MAX_BODY_BYTES + 1, 1024 * 1024]) {
          // The server must read (or discard) what it refuses: closing on an unread body resets
          // the connection under the client (EPIPE/ECONNRESET) and nginx answers 502.
          const r = await request(url, path, { method, body: sized(size, `big.${uniq()}@example.com`), chunked, timeout: 20000 })
            .catch((e) => assert.fail(`${how}, ${size} bytes: ${e.message} (${e.cause?.code ?? e.cause?.message})`));
          assert.equal(r.status, 413, `${how}, ${size} bytes: got ${r.status} ${r.body.slice(0, 80)}`);
          assert.match(r.json.error, /exceeds 65536 bytes/, how);
        }
        const email = method === 'POST' ? `fits.${uniq()}@example.com` : user.json.email;
        const ok = await request(url, path, { method, body: sized(MAX_BODY_BYTES, email), chunked });
        assert.equal(ok.status, method === 'POST' ? 201 : 200, `${how}, exactly ${MAX_BODY_BYTES} bytes: ${ok.body.slice(0, 80)}`);
      }
    }
    // The server is still fine.
    assert.equal((await request(url, '/health/live')).status, 200);
  });

  test('every stress slot busy for STRESS_WAIT_MS (200): 429 with Retry-After', async () => {
    const burn = request(url, '/api/stress?ms=1000', { timeout: 20000 });
    let busy;
    for (let i = 0; i < 40; i++) {
      await sleep(50);
      busy = await request(url, '/api/stress?ms=1');
      if (busy.status === 429) break;
    }
    assert.equal(busy.status, 429);
    assert.equal(busy.headers.get('retry-after'), '1');
    assert.equal((await burn).status, 200);
  });

  test('bad ids and query parameters are 400', async () => {
    for (const id of ['0', '-1', 'abc', '1.5', '9223372036854775808', '1e3', '%20']) {
      const r = await request(url, `/api/users/${id}`);
      assert.equal(r.status, 400, id);
      assert.equal(r.json.field, 'id');
    }
    assert.equal((await request(url, '/api/users/9223372036854775807')).status, 404);
    for (const q of ['limit=0', 'limit=501', 'limit=abc', 'limit=-5', 'limit=', 'before=0', 'before=x', 'before=-1']) {
      const r = await request(url, `/api/users?${q}`);
      assert.equal(r.status, 400, q);
      assert.ok(['limit', 'before'].includes(r.json.field));
    }
    for (const q of ['ms=0', 'ms=5001', 'ms=abc', 'iterations=0', 'iterations=999999999999', 'ms=5&iterations=5']) {
      assert.equal((await request(url, `/api/stress?${q}`)).status, 400, q);
    }
  });

  test('keyset pagination: newest first, Link to the next page, no duplicates', async () => {
    const tag = uniq();
    const ids = [];
    for (let i = 0; i < 7; i++) ids.push((await create(`Page ${i}`, `page${i}.${tag}@example.com`)).json.id);
    const seen = [];
    let next = '/api/users?limit=3';
    let pages = 0;
    while (next && pages < 100) {
      const r = await request(url, next);
      assert.equal(r.status, 200);
      seen.push(...r.json.map((u) => u.id));
      const link = r.headers.get('link');
      if (link) {
        const m = link.match(/^<(\/api\/users\?limit=3&before=(\d+))>; rel="next"$/);
        assert.ok(m, link);
        assert.equal(Number(m[2]), r.json[r.json.length - 1].id);
        next = m[1];
      } else next = null;
      pages++;
    }
    const sorted = [...seen].sort((a, b) => b - a);
    assert.deepEqual(seen, sorted, 'ids descending');
    assert.equal(new Set(seen).size, seen.length, 'no duplicates');
    for (const id of ids) assert.ok(seen.includes(id));
    assert.equal(Number(deps.psql('SELECT count(*) FROM users')), seen.length);
  });

  test('cache: second read is a HIT, a write makes the next read a MISS with fresh data', async () => {
    const c = await create('Cache Me', `cache.${uniq()}@example.com`);
    const path = `/api/users/${c.json.id}`;
    assert.equal((await request(url, path)).headers.get('x-cache'), 'MISS');
    const hit = await request(url, path);
    assert.equal(hit.headers.get('x-cache'), 'HIT');
    assert.deepEqual(hit.json, c.json);
    const l1 = await request(url, '/api/users?limit=5');
    const l2 = await request(url, '/api/users?limit=5');
    assert.equal(l2.headers.get('x-cache'), 'HIT');
    assert.equal(l2.body, l1.body);
    assert.equal(l2.headers.get('link'), l1.headers.get('link'), 'a cached page keeps its Link');
    await request(url, path, { method: 'PUT', body: { name: 'Cache Updated', email: c.json.email } });
    const after = await request(url, path);
    assert.equal(after.headers.get('x-cache'), 'MISS');
    assert.equal(after.json.name, 'Cache Updated');
    const l3 = await request(url, '/api/users?limit=5');
    assert.equal(l3.headers.get('x-cache'), 'MISS');
    assert.ok(l3.json.some((u) => u.name === 'Cache Updated'));
  });

  test('unknown path 404, wrong method 405 with Allow, OPTIONS 204 with Allow', async () => {
    // Through nginx only /api/ and /health are the backend's; other paths are the page.
    const nf = await request(url, '/api/nope');
    assert.equal(nf.status, 404);
    assert.equal(nf.json.error, 'not found');
    assert.equal(nf.headers.get('content-type'), 'application/json; charset=utf-8');
    const na = await request(url, '/api/users', { method: 'DELETE' });
    assert.equal(na.status, 405);
    assert.equal(na.headers.get('allow'), 'GET, HEAD, POST, OPTIONS');
    assert.ok(na.json.error);
    const opt = await request(url, '/api/users/1', { method: 'OPTIONS' });
    assert.equal(opt.status, 204);
    assert.equal(opt.headers.get('allow'), 'GET, HEAD, PUT, DELETE, OPTIONS');
    assert.equal(opt.headers.get('access-control-allow-origin'), null, 'CORS is off by default');
    const head = await request(url, '/api/users', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });

  test('X-Request-ID: a valid one is echoed, an invalid one replaced', async () => {
    const ok = await request(url, '/health/live', { headers: { 'x-request-id': 'abc.DEF_123-x' } });
    assert.equal(ok.headers.get('x-request-id'), 'abc.DEF_123-x');
    for (const bad of ['has space', 'x'.repeat(65), 'semi;colon', '']) {
      const r = await request(url, '/health/live', { headers: { 'x-request-id': bad } });
      const id = r.headers.get('x-request-id');
      assert.notEqual(id, bad);
      assert.match(id, /^[A-Za-z0-9._-]{1,64}$/);
    }
    const e = await request(url, '/api/users/abc', { headers: { 'x-request-id': 'trace-42' } });
    assert.equal(e.json.request_id, 'trace-42');
  });

  test('health endpoints', async () => {
    assert.deepEqual((await request(url, '/health/live')).json, { status: 'alive' });
    assert.deepEqual((await request(url, '/health/ready')).json, { status: 'ready' });
    for (const p of ['/health', '/api/health']) {
      const h = await request(url, p);
      assert.equal(h.status, 200);
      assert.equal(h.json.status, 'healthy');
      assert.equal(h.json.checks.database.status, 'up');
      assert.equal(h.json.checks.redis.status, 'up');
      assert.equal(typeof h.json.checks.database.latency_ms, 'number');
      assert.equal(typeof h.json.version, 'string');
      assert.equal(typeof h.json.uptime_seconds, 'number');
      assert.equal(h.json.served_by, `it-${be.port}`);
    }
  });

  test('stress burns at least the requested CPU and reports it', async () => {
    const r = await request(url, '/api/stress?ms=150');
    assert.equal(r.status, 200);
    assert.equal(r.json.message, 'Stress test completed');
    assert.ok(r.json.cpu_ms >= 150, `cpu_ms ${r.json.cpu_ms}`);
    assert.ok(r.json.duration_ms >= r.json.cpu_ms * 0.9);
    assert.ok(r.json.iterations > 1000);
    assert.equal(typeof r.json.result, 'number');
    assert.equal(r.json.served_by, `it-${be.port}`);
    const it = await request(url, '/api/stress?iterations=100000');
    assert.equal(it.json.iterations, 100000);
    const d = await request(url, '/api/stress');
    assert.ok(d.json.cpu_ms >= 200, 'default is 200 ms');
  });

  test('metrics: Prometheus text with route patterns, never raw paths', async () => {
    await request(url, '/api/users/123456');
    await request(url, '/api/no/such/thing');
    // /metrics is the backend's own (nginx does not expose it): read it there.
    const r = await request(be.url, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
    for (const family of ['http_requests_total', 'http_request_duration_seconds_bucket', 'http_requests_in_flight',
      'cache_requests_total', 'db_pool_connections', 'stress_in_flight', 'stress_cpu_seconds_total',
      'process_cpu_seconds_total', 'process_resident_memory_bytes', 'build_info']) {
      assert.match(r.body, new RegExp(`^${family}`, 'm'), family);
    }
    assert.match(r.body, /http_requests_total\{method="GET",route="\/api\/users\/\{id\}",status="404"\} \d+/);
    assert.match(r.body, /route="unmatched"/);
    assert.doesNotMatch(r.body, /123456|no\/such/);
    assert.match(r.body, /cache_requests_total\{result="hit"\} [1-9]/);
  });

  test('one JSON access log line per request, with route, status, duration, cache and request id', async () => {
    await request(url, '/api/users/424242', { headers: { 'x-request-id': 'log-check-1' } });
    // Access lines are written in batches (ACCESS_LOG_FLUSH_MS, 50 ms): wait up to a second.
    let line;
    for (let waited = 0; !line && waited <= 1000; waited += 20) {
      line = be.logs().find((l) => l.request_id === 'log-check-1');
      if (!line) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(line, 'access line present');
    assert.equal(line.event, 'http.request');
    assert.equal(line.level, 'info');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/api/users/{id}');
    assert.equal(line.status, 404);
    assert.equal(typeof line.ms, 'number');
    assert.equal(line.cache, 'miss');
    assert.match(line.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('PostgreSQL down: 503 for what needs it, /health and /health/ready 503; back after', async () => {
    deps.stopPg();
    try {
      const r = await request(url, '/api/users/987654', { timeout: 10000 });
      assert.equal(r.status, 503);
      assert.equal(r.json.error, 'database unavailable, retry later');
      const w = await create('Down', `down.${uniq()}@example.com`);
      assert.equal(w.status, 503);
      let ready;
      for (let i = 0; i < 40; i++) {
        ready = await request(url, '/health/ready');
        if (ready.status === 503) break;
        await sleep(100);
      }
      assert.equal(ready.status, 503);
      assert.equal((await request(url, '/health')).status, 503);
    } finally {
      deps.startPg();
    }
    await be.waitFor('/health/ready', 200, 15000);
    assert.equal((await request(url, '/api/users/987654')).status, 404);
  });
});

test('a backend limit below nginx\'s: the backend\'s 413 comes through nginx as 413, never 502', async () => {
  const be = await new Backend(deps, { MAX_BODY_BYTES: '1024' }).start();
  const fe = await target('nginx', be);
  try {
    for (const chunked of [false, true]) {
      for (const size of [1025, 60000]) {
        const body = JSON.stringify({ name: 'A', email: 'a@b.co' }).padEnd(size, ' ');
        const r = await request(fe.url, '/api/users', { method: 'POST', body, chunked });
        assert.equal(r.status, 413, `${chunked ? 'chunked' : 'Content-Length'}, ${size} bytes: ${r.body.slice(0, 80)}`);
        assert.match(r.json.error, /exceeds 1024 bytes/);
      }
    }
  } finally {
    await fe.stop();
    assert.equal((await be.stop()).code, 0);
  }
});

test('openapi.yaml is valid OpenAPI 3.0 (swagger-parser), with no value lost to a comma in a flow mapping', async () => {
  await SwaggerParser.validate(SPEC);
  // `{description: a, b}` parses as a key "b" with a null value: the validator only catches
  // that where extra keys are not allowed.
  const nulls = [];
  const walk = (v, at) => {
    if (v === null) nulls.push(at);
    else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${at}/${k}`);
  };
  walk(parseYaml(readFileSync(SPEC, 'utf8')), '#');
  assert.deepEqual(nulls, []);
});

test('the response check catches drift: an extra field, a wrong type, an undocumented status', () => {
  const res = (status, json, headers = {}) => ({
    status, json, body: json === undefined ? '' : JSON.stringify(json),
    headers: new Headers({ 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'r1', ...headers }),
  });
  const user = { id: 1, name: 'A', email: 'a@b.co', created_at: '2026-11-22T05:00:00.123456Z' };
  checkResponse('GET', '/api/users/1', res(200, user));
  assert.throws(() => checkResponse('GET', '/api/users/1', res(200, { ...user, extra: 1 })), /additional/);
  assert.throws(() => checkResponse('GET', '/api/users/1', res(200, { ...user, id: '1' })), /integer/);
  assert.throws(() => checkResponse('GET', '/api/users/1', res(418, { error: 'x', request_id: 'r1' })), /not documented/);
  assert.throws(() => checkResponse('POST', '/api/users', res(201, user)), /Location/);
  assert.throws(() => checkResponse('GET', '/api/users/1', res(404, { error: 'x', request_id: 'r2' })), /request_id/);
  assert.throws(() => checkResponse('DELETE', '/api/users', res(405, { error: 'x', request_id: 'r1' })), /Allow/);
});

test("nginx's client_max_body_size is the backend's MAX_BODY_BYTES", () => {
  const help = execFileSync(BACKEND, ['--help'], { encoding: 'utf8' });
  const backend = Number(help.match(/^\s+MAX_BODY_BYTES\s+(\d+)/m)[1]);
  const tmpl = readFileSync(join(ROOT, 'frontend/nginx/nginx.conf.template'), 'utf8');
  const m = tmpl.match(/^\s*client_max_body_size (\d+)([km]?);/m);
  const nginx = Number(m[1]) * { '': 1, k: 1024, m: 1024 * 1024 }[m[2]];
  assert.equal(backend, MAX_BODY_BYTES);
  assert.equal(nginx, backend);
  assert.match(tmpl, new RegExp(`exceeds ${backend} bytes`), "nginx's 413 message names the same limit");
});

test('every route is in openapi.yaml and every documented operation is served', () => {
  const spec = parseYaml(readFileSync(join(ROOT, 'backend/openapi.yaml'), 'utf8'));
  assert.match(spec.openapi, /^3\./);
  const documented = new Set();
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const m of Object.keys(ops)) {
      if (['get', 'post', 'put', 'delete'].includes(m)) documented.add(`${m.toUpperCase()} ${path}`);
    }
  }
  const served = new Set(execFileSync(BACKEND, ['--routes'], { encoding: 'utf8' }).trim().split('\n'));
  assert.deepEqual([...served].sort(), [...documented].sort());
});

test('the schema has the unique lower(email) index and a bigint key', () => {
  assert.equal(deps.psql("SELECT data_type FROM information_schema.columns WHERE table_name='users' AND column_name='id'"), 'bigint');
  assert.match(deps.psql("SELECT indexdef FROM pg_indexes WHERE tablename='users' AND indexname='users_email_lower_key'"), /UNIQUE.*lower\(email\)/);
});
