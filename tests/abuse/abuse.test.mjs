// Abusive clients, leaks and rollouts against real servers (run by tests/abuse/run.sh).
//
//  1. malformed HTTP: framing (Content-Length, chunked), huge headers, bad methods/versions -> 4xx
//  2. long URLs and query strings -> 4xx, and the access log keeps every field
//  3. slowloris: idle and slow-header connections while normal clients are served
//  4. a connection flood beyond HTTP_MAX_CONNECTIONS: refused quickly, service continues
//  5. 5xx bodies carry no SQL; 503 comes within the statement timeout
//  6. CORS is off unless configured, and then never reflects the caller's Origin
//  7. /api/stress is bounded (parameters, slots, CPU time); probes answer while it burns
//  8. rolling restart of two backends behind nginx under load: zero failed requests
//  9. secrets (DB_PASSWORD, REDIS_PASSWORD) never appear in logs, errors, /metrics, /health
//
// The status-code cases (1, 2 and the stress parameters of 7) run twice: direct, and through
// nginx rendered from the real template (frontend/nginx/render.sh) in front of the same
// backend, where nginx's own refusals must be JSON too.
//
// Backends are the sanitizer build (BACKEND_BIN overrides); any sanitizer report fails.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, cpSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test, before, after } from 'node:test';
import { Stack, sleep, ROOT, PGBIN } from '../lib/stack.mjs';
import { Backend } from '../lib/backend.mjs';
import { Nginx } from '../lib/nginx.mjs';
import { Frontend } from '../lib/frontend.mjs';
import { freePort } from '../lib/ports.mjs';
import { request } from '../lib/http.mjs';
import { raw, hold, sendBody } from '../lib/raw-http.mjs';
import { checks } from '../lib/checks.mjs';

// Each section below is one node:test test; its functions report through report.check(), the
// checks of the test that runs (tests/lib/checks.mjs).
let current = null;
const report = { check: (...args) => current(...args) };
const SECRET_DB = `dbpw-CANARY-${randomBytes(6).toString('hex')}`;
const SECRET_REDIS = `rdpw-CANARY-${randomBytes(6).toString('hex')}`;
const STATEMENT_TIMEOUT_MS = 1000;
const seen = []; // every response body and header block, for the secret scan

const deps = new Stack({ redisPassword: SECRET_REDIS });
const backends = [];
const frontends = [];
let nginx;

function remember(r) {
  if (r.raw) seen.push(r.raw.toString('latin1'));
  else seen.push(JSON.stringify(r.headers) + '\n' + r.body);
  return r;
}
const req = async (b, path, opts) => remember(await request(b.url, path, opts));
const rawTo = async (b, data, opts) => remember(await raw(b.port, data, opts));
const first = (r) => r.responses[0] || {};
const status = (r) => first(r).status ?? r.end;
const is4xx = (s) => typeof s === 'number' && s >= 400 && s < 500;

// Access lines are written in batches (ACCESS_LOG_FLUSH_MS, 50 ms): wait up to a second.
async function access(b, requestId) {
  for (let waited = 0; ; waited += 20) {
    const line = b.logs().find((l) => l.event === 'http.request' && l.request_id === requestId);
    if (line || waited >= 1000) return line;
    await sleep(20);
  }
}

// A backend reached through nginx: same checks, nginx's port. `exp(direct, nginx)` gives the
// status expected on each path where nginx answers differently (it normalises what it forwards).
function through(fe, a) {
  return { name: 'nginx', via: 'nginx', port: fe.port, url: fe.url, running: () => a.running() };
}
const expect = (a) => (direct, nginx = direct) => (a.via === 'nginx' ? nginx : direct);
const jsonError = (r) => /^application\/json/.test(first(r).headers?.['content-type'] || '') &&
  typeof JSON.parse(first(r).body || 'null')?.error === 'string';

async function malformed(a) {
  const via = a.via || 'direct';
  const exp = expect(a);
  const check = (name, ...rest) => report.check(via === 'direct' ? name : `[${via}] ${name}`, ...rest);
  const H = 'Host: t\r\n';
  const post = (headers, body = '') => `POST /api/users HTTP/1.1\r\n${H}${headers}\r\n${body}`;
  const email = (tag) => `${tag}-${randomBytes(3).toString('hex')}@example.com`;
  const userBody = (e) => JSON.stringify({ name: 'Framing Test', email: e });
  const created = (e) => Number(deps.psql(`SELECT count(*) FROM users WHERE email = '${e}'`));

  // Two Content-Length headers that disagree: a proxy may frame the body with one and the
  // server with the other (request smuggling). RFC 9112 6.3: reject with 400.
  for (const [first_, second] of [['exact', 999], [999, 'exact'], [5, 'exact']]) {
    const e = email('dupcl');
    const body = userBody(e);
    const len = (v) => (v === 'exact' ? Buffer.byteLength(body) : v);
    const r = await rawTo(a, post(`Content-Length: ${len(first_)}\r\nContent-Length: ${len(second)}\r\nConnection: close\r\n`, body), { timeout: 1500 });
    check(`conflicting Content-Length ${len(first_)} then ${len(second)}: 400, nothing created`,
      status(r) === 400 && created(e) === 0, `got ${status(r)}, rows created: ${created(e)}`);
  }
  // Content-Length and Transfer-Encoding together: RFC 9112 6.1 lets a server use the chunked
  // framing only if it closes the connection afterwards; a pipelined request after it must
  // not be served on the same connection. (400 is the simpler answer.)
  {
    const e = email('clte');
    const body = userBody(e);
    const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
    const r = await rawTo(a, post('Content-Length: 3\r\nTransfer-Encoding: chunked\r\n', chunked) +
      `GET /health/live HTTP/1.1\r\n${H}\r\n`, { timeout: 1500 });
    const ok = status(r) === 400 || (r.responses.length === 1 && r.end !== 'timeout');
    check('Content-Length with Transfer-Encoding: 400, or chunked and the connection closed', ok,
      `responses: ${r.responses.map((x) => x.status).join(',')}; connection ${r.end === 'timeout' ? 'kept open' : 'closed'}`);
  }
  // A transfer coding the server does not implement: 501 (or 400) at once, not a hang.
  for (const te of ['identity', 'gzip, chunked']) {
    const r = await rawTo(a, post(`Transfer-Encoding: ${te}\r\nContent-Length: 2\r\n`, '{}'), { timeout: 1500 });
    check(`Transfer-Encoding: ${te}: 400 or 501 within 1.5 s`, [400, 501].includes(status(r)),
      `got ${status(r)} after ${r.ms.toFixed(0)} ms`);
  }
  // libmicrohttpd's framing, NUL bytes and limits: the backend's own (nginx normalises these
  // before they reach it), checked direct.
  if (via === 'direct') {
    // Repeated Transfer-Encoding, in any order or split: libmicrohttpd frames by the first one,
    // a proxy may use another. 400 at once, never left waiting for the idle timeout.
    for (const tes of [['chunked', 'chunked'], ['identity', 'chunked'], ['chunked', 'identity'], ['gzip', 'chunked']]) {
      const e = email('dupte');
      const body = userBody(e);
      const chunked = `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const r = await rawTo(a, post(tes.map((t) => `Transfer-Encoding: ${t}\r\n`).join(''), chunked), { timeout: 1500 });
      report.check(`Transfer-Encoding: ${tes.join(' then ')}: 400 JSON at once, nothing created`,
        status(r) === 400 && first(r).body.startsWith('{"error"') && created(e) === 0,
        `got ${status(r)} after ${r.ms.toFixed(0)} ms, rows created: ${created(e)}`);
    }
    // A raw NUL in the request target would cut the C string short: /health/live\0x must not be
    // served as /health/live, nor logged as it.
    for (const target of ['/health/live\x00/x', '/api/users/1\x00', '/api/users\x00?limit=1']) {
      const id = `nul-${randomBytes(3).toString('hex')}`;
      const r = await rawTo(a, Buffer.from(`GET ${target} HTTP/1.1\r\n${H}X-Request-ID: ${id}\r\nConnection: close\r\n\r\n`, 'latin1'), { timeout: 1500 });
      const line = await access(a, id);
      report.check(`raw NUL in ${JSON.stringify(target)}: 400 JSON, logged with %00`,
        status(r) === 400 && first(r).body.includes(id) && line?.path?.includes('%00'),
        `got ${status(r)} ${first(r).body?.slice(0, 80)}; log path ${JSON.stringify(line?.path)}`);
    }
    // Limits that libmicrohttpd used to answer in HTML: now ours, in JSON with the request id.
    for (const [name, data, want] of [
      ['12 KiB request target', `GET /${'a'.repeat(12000)} HTTP/1.1\r\n${H}X-Request-ID: big-target\r\n\r\n`, 414],
      ['12 KiB header', `GET /health/live HTTP/1.1\r\n${H}X-Request-ID: big-header\r\nX-Big: ${'a'.repeat(12000)}\r\n\r\n`, 431],
    ]) {
      const r = await rawTo(a, data, { timeout: 2000 });
      report.check(`${name}: ${want} JSON with the request id`,
        status(r) === want && /^application\/json/.test(first(r).headers?.['content-type'] || '') && /"request_id":"big-/.test(first(r).body),
        `got ${status(r)} ${first(r).headers?.['content-type']} ${first(r).body?.slice(0, 80)}`);
    }
    // A 16 KiB chunk extension: libmicrohttpd skips it; the request is judged on its body.
    {
      const body = userBody(email('chunkext'));
      const r = await rawTo(a, post('Transfer-Encoding: chunked\r\n', `${Buffer.byteLength(body).toString(16)};x=${'e'.repeat(16384)}\r\n${body}\r\n0\r\n\r\n`), { timeout: 2000 });
      report.check('16 KiB chunk extension: answered, not 5xx', status(r) === 201, `got ${status(r)}`);
    }
  }
  const table = [
    ['Content-Length: 46, 5', post('Content-Length: 46, 5\r\n', userBody(email('list'))), [400]],
    ['Content-Length: -1', post('Content-Length: -1\r\n'), [400]],
    ['Content-Length: abc', post('Content-Length: abc\r\n'), [400]],
    ['Content-Length: +2', post('Content-Length: +2\r\n', '{}'), [400]],
    ['Content-Length: 2^64+', post('Content-Length: 99999999999999999999\r\n'), [400, 413]],
    ['chunk size not hex', post('Transfer-Encoding: chunked\r\n', 'zz\r\nabc\r\n0\r\n\r\n'), [400]],
    ['negative chunk size', post('Transfer-Encoding: chunked\r\n', '-5\r\nabc\r\n0\r\n\r\n'), [400]],
    ['chunk size overflow', post('Transfer-Encoding: chunked\r\n', 'fffffffffffffffffffff\r\nabc\r\n0\r\n\r\n'), [400, 413]],
    ['chunk without CRLF', post('Transfer-Encoding: chunked\r\n', '3\r\nabcdef0\r\n\r\n'), [400]],
    // nginx drops an invalid header line (ignore_invalid_headers) and forwards the rest.
    ['header line without colon', `GET /health/live HTTP/1.1\r\n${H}NoColonHere\r\n\r\n`, exp([400], [200])],
    // nginx refuses a header over its 8 KiB buffers with 400 (JSON on the API's paths).
    ['100 KiB header', `GET /health/live HTTP/1.1\r\n${H}X-Big: ${'a'.repeat(100000)}\r\n\r\n`, exp([431], [400])],
    ['5000 headers', `GET /health/live HTTP/1.1\r\n${H}${Array.from({ length: 5000 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`, [431, 400]],
    ['method FOO', `FOO /api/users HTTP/1.1\r\n${H}\r\n`, [405]],
    ['method TRACE', `TRACE /api/users HTTP/1.1\r\n${H}\r\n`, [405]],
    ['method CONNECT', `CONNECT 127.0.0.1:5432 HTTP/1.1\r\n${H}\r\n`, [400, 404, 405]],
    // nginx takes only upper-case method tokens: 400 before any location.
    ['lower-case method', `get /api/users HTTP/1.1\r\n${H}\r\n`, exp([405], [400])],
    ['control bytes in method', `G\x01T /api/users HTTP/1.1\r\n${H}\r\n`, [400, 405]],
    ['10 KiB method', `${'A'.repeat(10000)} /api/users HTTP/1.1\r\n${H}\r\n`, [400, 405, 414, 431]],
    ['version HTTP/1.x', `GET /health/live HTTP/1.x\r\n${H}\r\n`, [400]],
    // nginx reads a line without a version as HTTP/0.9: the body alone, then it closes.
    ['no version', `GET /health/live\r\n${H}\r\n`, exp([400], ['eof'])],
    ['version FOO/1.1', `GET /health/live FOO/1.1\r\n${H}\r\n`, [400]],
    // Well-formed but unsupported: 505 is the answer RFC 9110 15.6.6 prescribes.
    ['version HTTP/2.0', `GET /health/live HTTP/2.0\r\n${H}\r\n`, [505]],
    // A TLS ClientHello on the plain port: libmicrohttpd closes without an answer.
    ['TLS handshake bytes', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03' + '\xff'.repeat(64) + '\r\n\r\n', [400, 'eof', 'reset']],
  ];
  for (const [name, data, want] of table) {
    const r = await rawTo(a, Buffer.from(data, 'latin1'), { timeout: 2000 });
    check(`${name}: ${want.join(' or ')}`, want.includes(status(r)), `got ${status(r)}`);
    // JSON when nginx saw an API path: in the first 8 KiB of the line (its header buffer).
    const target = data.slice(0, 8000).split(' ')[1] || '';
    if (via === 'nginx' && typeof status(r) === 'number' && status(r) >= 400 && /^\/(api|health)/.test(target)) {
      check(`${name}: the error is JSON`, jsonError(r), `${first(r).headers?.['content-type']}: ${first(r).body?.slice(0, 60)}`);
    }
  }
  // Body limits: announced (413 before reading it) and chunked (counted while reading).
  {
    const r = await rawTo(a, post('Content-Length: 70000\r\nExpect: 100-continue\r\n'), { timeout: 2000 });
    check('announced body over MAX_BODY_BYTES: 413 JSON, no 100 Continue',
      status(r) === 413 && first(r).body.startsWith('{"error"') && !r.raw.toString('latin1').includes('100 Continue'),
      `got ${status(r)} ${first(r).body?.slice(0, 60)}`);
    const chunk = `1000\r\n${'x'.repeat(4096)}\r\n`;
    const r2 = await rawTo(a, post('Transfer-Encoding: chunked\r\n', chunk.repeat(20) + '0\r\n\r\n'), { timeout: 3000 });
    check('chunked body over MAX_BODY_BYTES: 413', status(r2) === 413,
      `got ${status(r2)} (${r2.raw.length} bytes, connection ${r2.end})`);
  }
  // After all that, the server is still there.
  const live = await req(a, '/health/live');
  check('server still answers after malformed input', live.status === 200 && a.running());
}

async function bodyLimits(a) {
  const H = 'Host: t\r\nContent-Type: application/json\r\n';
  const cases = [
    ['POST, Content-Length, one byte over', 'POST /api/users', 65537],
    ['PUT, Content-Length, one byte over', 'PUT /api/users/1', 65537],
    ['POST, Content-Length, 1 MB', 'POST /api/users', 1000000],
    ['PUT, Content-Length, 3 MB', 'PUT /api/users/1', 3000000],
  ];
  for (const [name, line, total] of cases) {
    const r = await sendBody(a.port, `${line} HTTP/1.1\r\n${H}Content-Length: ${total}\r\n\r\n`, total);
    report.check(`${name}, sent while answered: 413 JSON, Connection: close`,
      status(r) === 413 && first(r).body.startsWith('{"error"') && first(r).headers.connection === 'close',
      `got ${status(r)} (${r.end}, ${r.sent} bytes sent)`);
  }
  for (const [name, line, total] of [['POST, chunked, one byte over', 'POST /api/users', 65537], ['PUT, chunked, 1 MB', 'PUT /api/users/1', 1000000]]) {
    const piece = 4096;
    const n = Math.ceil(total / piece);
    const chunks = Array.from({ length: n }, (_, i) => { const len = i < n - 1 ? piece : total - piece * (n - 1); return `${len.toString(16)}\r\n${'x'.repeat(len)}\r\n`; });
    const r = await rawTo(a, `${line} HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n${chunks.join('')}0\r\n\r\n`, { timeout: 8000 });
    report.check(`${name}: 413 JSON`, status(r) === 413 && first(r).body.startsWith('{"error"'), `got ${status(r)} (${r.end})`);
  }
  // Far over: the server stops reading at the drain limit (4 MiB here) and closes.
  {
    const r = await sendBody(a.port, `POST /api/users HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n`, 1 << 30, { timeout: 15000 });
    report.check('chunked body far over the limit: cut off after a few MiB, not read to 1 GiB',
      r.end !== 'timeout' && r.sent < 64 << 20, `${r.end} after ${(r.sent / 1048576).toFixed(1)} MiB in ${r.ms.toFixed(0)} ms`);
    const r2 = await sendBody(a.port, `POST /api/users HTTP/1.1\r\n${H}Content-Length: 10000000000\r\n\r\n`, 1 << 30, { timeout: 15000 });
    report.check('Content-Length 10 GB: 413 at once (or a reset while sending), never read',
      (status(r2) === 413 || r2.end === 'reset') && r2.sent < 64 << 20, `got ${status(r2)} ${r2.end} after ${(r2.sent / 1048576).toFixed(1)} MiB`);
  }
  // Through nginx (client_max_body_size 1m by default): 413 from the backend, not 502.
  const proxy = new Nginx(join(deps.dir, 'limits'), [a.port]);
  await proxy.start();
  try {
    for (const [method, path, size] of [['POST', '/api/users', 65537], ['POST', '/api/users', 900000], ['PUT', '/api/users/1', 500000]]) {
      let statuses = [];
      for (let i = 0; i < 5; i++) {
        const r = await request(proxy.url, path, { method, body: { name: 'x'.repeat(size), email: 'big@example.com' }, timeout: 10000 });
        statuses.push(r.status);
      }
      report.check(`through nginx, ${method} ${size} B body x5: 413 every time`, statuses.every((x) => x === 413), statuses.join(','));
    }
  } finally {
    proxy.stop();
  }
  report.check('server still answers after oversized bodies', (await req(a, '/health/live')).status === 200 && a.running());
}

async function longInputs(a) {
  const via = a.via || 'direct';
  const exp = expect(a);
  const check = (name, ...rest) => report.check(via === 'direct' ? name : `[${via}] ${name}`, ...rest);
  const H = 'Host: t\r\nX-Request-ID: @ID@\r\n';
  const cases = [
    ['8 KiB path', `/api/${'a'.repeat(8000)}`, [404], true],
    ['200 KiB path', `/api/${'a'.repeat(200000)}`, [414], false],
    // Long numbers inside the 8 KiB target limit (the backend's and nginx's): a JSON 400.
    ['7 000-digit limit', `/api/users?limit=${'9'.repeat(7000)}`, [400], true],
    ['7 000-digit id', `/api/users/${'1'.repeat(7000)}`, [400], true],
    // Beyond it: 414, JSON from the backend (its own limit) or from nginx (its header buffer).
    ['10 000-digit id', `/api/users/${'1'.repeat(10000)}`, [414], true],
    ['limit=0', '/api/users?limit=0', [400], true],
    ['limit=501', '/api/users?limit=501', [400], true],
    ['before=-1', '/api/users?before=-1', [400], true],
    ['id 2^63', '/api/users/9223372036854775808', [400], true],
    ['%00 in the path', '/api/users%00/../../etc', [400, 404], true],
    ['invalid UTF-8 in the path', '/api/\xff\xfe\xc3', [400, 404], true],
    ['multi-byte path cut by the log limit', `/api/a${'\xc3\xa9'.repeat(150)}`, [404], true],
  ];
  let n = 0;
  for (const [name, path, want, logged] of cases) {
    const id = `long-${++n}-${randomBytes(3).toString('hex')}`;
    const r = await rawTo(a, Buffer.from(`GET ${path} HTTP/1.1\r\n${H.replace('@ID@', id)}Connection: close\r\n\r\n`, 'latin1'));
    check(`${name}: ${want.join(' or ')}`, want.includes(status(r)), `got ${status(r)}`);
    if (via === 'nginx' && typeof status(r) === 'number' && status(r) >= 400) {
      check(`${name}: the error is JSON`, jsonError(r), `${first(r).headers?.['content-type']}: ${first(r).body?.slice(0, 60)}`);
    }
    if (logged && via === 'direct') {
      const line = await access(a, id);
      // A log line without its fields hides the request from whoever reads the logs.
      check(`${name}: access log line has method, path, status and request id`,
        line && line.method === 'GET' && typeof line.path === 'string' && line.status === status(r),
        line ? JSON.stringify(line).slice(0, 160) : 'no access log line carries this request id');
    }
  }
  if (via !== 'direct') return;
  // 600 query parameters: libmicrohttpd keeps them in its per-connection memory pool. When they
  // overflow it, 0.9.75 answers 431 or closes at once, or (often, with the event-thread pool)
  // does neither and leaves the connection to the idle timeout (HTTP_IDLE_TIMEOUT_SECONDS=3).
  const q = Array.from({ length: 600 }, (_, i) => `p${i}=1`).join('&');
  const r = await rawTo(a, `GET /api/users?limit=1&${q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, { timeout: 4500 });
  const s = status(r);
  check('600 query parameters: 4xx or closed (at the latest by the idle timeout), never 5xx',
    is4xx(s) || s === 200 || s === 'eof' || s === 'reset', `got ${s} after ${r.ms.toFixed(0)} ms`);
  // Every request that started must also end: the in-flight gauge returns to just the scrape.
  await sleep(200);
  const m = await req(a, '/metrics');
  const inFlight = Number((m.body.match(/^http_requests_in_flight (\d+)/m) || [])[1]);
  check('no request is left in flight (http_requests_in_flight back to 1)', inFlight === 1,
    `gauge at ${inFlight}: a request dropped by libmicrohttpd without a completion call keeps its context and counter`);
  check('server still answers after long input', (await req(a, '/health/live')).status === 200);
}

async function normalTraffic(a, total, concurrency) {
  const lat = [];
  let failures = 0;
  const why = [];
  let next = 0;
  const paths = ['/health/live', '/api/users?limit=5', '/health/ready'];
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next++;
      try {
        const r = await req(a, paths[i % paths.length], { timeout: 5000 });
        lat.push(r.ms);
        if (r.status !== 200) {
          failures++;
          why.push(`${paths[i % paths.length]} ${r.status}`);
        }
      } catch (e) {
        failures++;
        why.push(`${paths[i % paths.length]} ${e.code ?? e.message}`);
      }
    }
  }));
  lat.sort((x, y) => x - y);
  return { failures, why: why.slice(0, 5).join(', '), max: lat[lat.length - 1] ?? Infinity, p50: lat[Math.floor(lat.length / 2)] ?? Infinity };
}

// Established connections to the server on port (its side), from ss(8).
function established(port) {
  return execFileSync('ss', ['-tnH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' })
    .split('\n').filter(Boolean).length;
}

async function slowloris(a, idleTimeout) {
  // The nginx sections leave nginx's idle keep-alive connections to `a` open for up to its
  // keepalive_timeout (4 s); they count against HTTP_MAX_CONNECTIONS, so start without them.
  for (let i = 0; i < 50 && established(a.port) > 0; i++) await sleep(200);
  const t0 = performance.now();
  const idle = await Promise.all(Array.from({ length: 80 }, () => hold(a.port)));
  const drip = await Promise.all(Array.from({ length: 20 }, () => hold(a.port)));
  const dripLine = 'GET /health/live HTTP/1.1\r\nHost: t\r\nX-Slow: ' + 'a'.repeat(200);
  let pos = 0;
  const dripTimer = setInterval(() => {
    for (const c of drip) if (!c.closedAt) c.sock.write(dripLine[pos % dripLine.length]);
    pos++;
  }, 500);
  const t = await normalTraffic(a, 300, 16);
  report.check('80 idle + 20 slow-header connections: 300 normal requests all 200',
    t.failures === 0, `${t.failures} failed${t.why ? `: ${t.why}` : ''}`);
  report.check('normal requests stay fast meanwhile (max < 1 s)', t.max < 1000,
    `p50 ${t.p50.toFixed(1)} ms, max ${t.max.toFixed(1)} ms`);
  const deadline = t0 + (idleTimeout + 3) * 1000;
  while (performance.now() < deadline && idle.some((c) => !c.closedAt)) await sleep(100);
  const closed = idle.filter((c) => c.closedAt);
  const after = closed.map((c) => (c.closedAt - t0) / 1000);
  report.check(`idle connections closed by the server after the idle timeout`,
    closed.length === idle.length && Math.min(...after) >= idleTimeout - 0.5,
    `${closed.length}/${idle.length} closed, after ${Math.min(...after).toFixed(1)}-${Math.max(...after).toFixed(1)} s`);
  clearInterval(dripTimer);
  const dripOpen = drip.filter((c) => !c.closedAt).length;
  // Not a pass/fail check: libmicrohttpd's timeout counts inactivity, so a client that sends a
  // byte every half second keeps its connection. HTTP_MAX_CONNECTIONS caps what that costs.
  console.log(`info slow-header connections still open after ${((performance.now() - t0) / 1000).toFixed(1)} s: ${dripOpen}/${drip.length}`);
  for (const c of [...idle, ...drip]) c.sock.destroy();
  await sleep(200);
}

async function flood(a) {
  const t0 = performance.now();
  const conns = await Promise.all(Array.from({ length: 400 }, () => hold(a.port)));
  await sleep(1000);
  const closed = conns.filter((c) => c.closedAt || c.error);
  const open = conns.filter((c) => !c.closedAt && !c.error);
  report.check('connections beyond the limit are closed within 1 s',
    closed.length >= 400 - 128 && open.length <= 128,
    `${open.length} held, ${closed.length} closed in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  // The admitted connections are served normally.
  const admitted = open.slice(0, 20);
  const answers = await Promise.all(admitted.map((c) => new Promise((resolve) => {
    c.sock.write('GET /health/live HTTP/1.1\r\nHost: t\r\n\r\n');
    const t = setTimeout(() => resolve(''), 2000);
    c.sock.once('data', (d) => { clearTimeout(t); resolve(d.toString('latin1')); });
  })));
  report.check('admitted connections are answered during the flood',
    answers.every((s) => s.startsWith('HTTP/1.1 200')), `${answers.filter((s) => s.startsWith('HTTP/1.1 200')).length}/20 answered 200`);
  for (const c of conns) c.sock.destroy();
  const t1 = performance.now();
  let ok = false;
  while (performance.now() - t1 < 3000 && !ok) {
    try { ok = (await req(a, '/health/live', { timeout: 500 })).status === 200; } catch { /* not yet */ }
    if (!ok) await sleep(50);
  }
  report.check('service is back at once when the flood stops', ok && a.running(),
    `after ${(performance.now() - t1).toFixed(0)} ms`);
}

async function serverErrors(a) {
  const SQLISH = /select|insert|update|delete|relation|column|constraint|violat|syntax|sqlstate|postgres|libpq|pq|users_|127\.0\.0\.1|port \d+|connection to server/i;
  const generic = (r, msg) => r.json && r.json.error === msg && Object.keys(r.json).sort().join() === 'error,request_id' &&
    !SQLISH.test(r.body);
  const u = await req(a, '/api/users', { method: 'POST', body: { name: 'Five Hundred', email: `fh-${Date.now()}@example.com` } });
  // A schema problem (a column renamed under the server): the query fails with 42703.
  deps.psql('ALTER TABLE users RENAME COLUMN email TO email_renamed');
  try {
    const r1 = await req(a, `/api/users/${u.json.id + 1000}`);
    report.check('GET on a broken schema: 500 {"error":"internal error"} and nothing else', r1.status === 500 && generic(r1, 'internal error'), r1.body);
  } finally {
    deps.psql('ALTER TABLE users RENAME COLUMN email_renamed TO email');
  }
  deps.psql("ALTER TABLE users ADD CONSTRAINT abuse_no_trigger CHECK (name <> 'trigger 500')");
  try {
    const r2 = await req(a, '/api/users', { method: 'POST', body: { name: 'trigger 500', email: `t5-${Date.now()}@example.com` } });
    report.check('POST violating a database constraint: 500 generic body', r2.status === 500 && generic(r2, 'internal error'), r2.body);
  } finally {
    deps.psql('ALTER TABLE users DROP CONSTRAINT abuse_no_trigger');
  }
  const logged = a.logs().some((l) => l.event === 'db.error' && /email/.test(l.error || ''));
  report.check('the detail goes to the log instead (db.error)', logged);

  // A table lock: statements wait until the statement timeout, then 503 in time.
  const locker = spawn(join(PGBIN, 'psql'), ['-h', '127.0.0.1', '-p', String(deps.pgPort), '-U', 'app', '-d', 'webapp',
    '-q', '-c', 'BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;'], { stdio: 'ignore' });
  const lockDone = new Promise((resolve) => locker.on('exit', resolve));
  await sleep(300);
  const r3 = await req(a, `/api/users/${u.json.id + 2000}`, { timeout: 10000 });
  report.check(`locked table: 503 within the statement timeout (${STATEMENT_TIMEOUT_MS} ms)`,
    r3.status === 503 && r3.ms < STATEMENT_TIMEOUT_MS + 700 && generic(r3, 'database unavailable, retry later'),
    `${r3.status} after ${r3.ms.toFixed(0)} ms: ${r3.body}`);
  // More requests than pooled connections (DB_POOL_SIZE 4): waiting for a connection and then
  // for the statement must still fit in one statement timeout.
  const many = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    req(a, `/api/users/${u.json.id + 3000 + i}`, { timeout: 10000 })));
  const slowest = Math.max(...many.map((r) => r.ms));
  report.check(`locked table, 10 requests on 4 connections: all 503 within the statement timeout`,
    many.every((r) => r.status === 503) && slowest < STATEMENT_TIMEOUT_MS + 700,
    `statuses ${[...new Set(many.map((r) => r.status))].join(',')}, slowest ${slowest.toFixed(0)} ms`);
  await lockDone;

  deps.stopPg('immediate');
  try {
    const r4 = await req(a, `/api/users/${u.json.id + 3000}`, { timeout: 10000 });
    report.check('PostgreSQL down: 503 generic body within the statement timeout',
      r4.status === 503 && r4.ms < STATEMENT_TIMEOUT_MS + 700 && generic(r4, 'database unavailable, retry later'),
      `${r4.status} after ${r4.ms.toFixed(0)} ms: ${r4.body}`);
    const r5 = await req(a, '/api/users', { method: 'POST', body: { name: 'Down', email: `down-${Date.now()}@example.com` } });
    report.check('PostgreSQL down: POST 503 generic body', r5.status === 503 && generic(r5, 'database unavailable, retry later'), r5.body);
    await sleep(1500); // let the monitor notice
    const h = await req(a, '/health');
    report.check('PostgreSQL down: /health 503 without error text', h.status === 503 && !SQLISH.test(JSON.stringify(h.json?.checks ?? {})), h.body);
  } finally {
    deps.startPg();
  }
  await a.waitFor('/health/ready', 200, 15000);
}

async function cors(a, withCors) {
  const pre = { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } };
  const r1 = await req(a, '/api/users', pre);
  const r2 = await req(a, '/api/users', { headers: { origin: 'https://evil.example' } });
  const acHeaders = (r) => Object.keys(r.headers).filter((k) => k.startsWith('access-control-'));
  report.check('not configured: no Access-Control-* header on preflight or GET',
    r1.status === 204 && acHeaders(r1).length === 0 && acHeaders(r2).length === 0,
    [...acHeaders(r1), ...acHeaders(r2)].join(','));
  const r3 = await req(withCors, '/api/users', pre);
  report.check('configured: the configured origin only, never the caller\'s',
    r3.headers['access-control-allow-origin'] === 'https://app.example' && /Origin/.test(r3.headers.vary || '') &&
    !JSON.stringify(r3.headers).includes('evil.example'),
    `allow-origin ${r3.headers['access-control-allow-origin']}, vary ${r3.headers.vary}`);
}

async function stressParams(a) {
  const tag = a.via ? `[${a.via}] ` : '';
  for (const q of ['ms=0', 'ms=5001', 'ms=-1', 'ms=1e3', 'iterations=500000001', 'iterations=0', 'ms=10&iterations=10', `ms=${'9'.repeat(30)}`]) {
    const r = await req(a, `/api/stress?${q}`);
    report.check(`${tag}/api/stress?${q.slice(0, 24)}: 400 JSON`, r.status === 400 && typeof r.json?.error === 'string',
      `got ${r.status}`);
  }
}

async function stress(a) {
  await stressParams(a);
  const burns = Array.from({ length: 4 }, () => req(a, '/api/stress?ms=1500', { timeout: 15000 }));
  await sleep(300);
  const probes = [];
  for (let i = 0; i < 5; i++) {
    probes.push(await req(a, '/health/live', { timeout: 5000 }));
    await sleep(150);
  }
  const res = await Promise.all(burns);
  const ok = res.filter((r) => r.status === 200);
  const busy = res.filter((r) => r.status === 429);
  report.check('4 concurrent burns on 2 slots: 2 run, 2 get 429 with Retry-After once STRESS_WAIT_MS (500) has passed',
    ok.length === 2 && busy.length === 2 && busy.every((r) => r.headers['retry-after'] && r.ms >= 400 && r.ms < 1400),
    res.map((r) => `${r.status} in ${r.ms.toFixed(0)} ms`).join(','));
  report.check('each burn uses what it asked for (cpu_ms 1400..1700)',
    ok.every((r) => r.json.cpu_ms >= 1400 && r.json.cpu_ms <= 1700), ok.map((r) => r.json.cpu_ms.toFixed(0)).join(','));
  const maxProbe = Math.max(...probes.map((r) => r.ms));
  report.check('/health/live answers while every slot burns (< 1 s)',
    probes.every((r) => r.status === 200) && maxProbe < 1000, `max ${maxProbe.toFixed(0)} ms`);
}

// A rollout as Kubernetes does it: SIGTERM and, about half a second later, the endpoint is
// gone from the proxy (nginx reloaded without it); the drain covers that gap. The replacement
// gets traffic once it is ready. Clients use a new connection per request so that nginx's own
// reload (closing idle client connections) is not what is measured.
async function rolling(b1, b2) {
  nginx = new Nginx(deps.dir, [b1.port, b2.port]);
  await nginx.start();
  const stats = { total: 0, failed: [], byServer: {}, byMethod: {} };
  let running = true;
  const ids = [];
  const worker = async (w) => {
    let i = 0;
    while (running) {
      i++;
      let opts = {};
      let path = '/api/users?limit=5';
      const kind = (w + i) % 5;
      if (kind === 0) { path = '/api/users'; opts = { method: 'POST', body: { name: `Roll ${w}-${i}`, email: `roll-${w}-${i}-${Date.now()}@example.com` } }; }
      else if (kind === 1 && ids.length) { path = `/api/users/${ids[i % ids.length]}`; opts = { method: 'PUT', body: { name: `Rolled ${w}-${i}`, email: `rolled-${w}-${i}-${Date.now()}@example.com` } }; }
      else if (kind === 2 && ids.length) path = `/api/users/${ids[(i * 7) % ids.length]}`;
      else if (kind === 3) path = '/health/live';
      const m = opts.method || 'GET';
      try {
        const r = await request(nginx.url, path, { ...opts, timeout: 10000 });
        stats.total++;
        stats.byMethod[m] = (stats.byMethod[m] || 0) + 1;
        const by = r.headers['x-served-by'] || 'nginx';
        stats.byServer[by] = (stats.byServer[by] || 0) + 1;
        if (r.status >= 300) stats.failed.push(`${m} ${path}: ${r.status} ${r.body.slice(0, 80)}`);
        else if (m === 'POST') ids.push(r.json.id);
      } catch (e) {
        stats.total++;
        stats.failed.push(`${m} ${path}: ${e.message}`);
      }
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  const restart = async (b, other) => {
    await sleep(1500);
    const t0 = performance.now();
    const stopped = b.kill('SIGTERM');
    await sleep(500);
    await nginx.setUpstreams([other.port]);
    const exit = await stopped;
    const took = (performance.now() - t0) / 1000;
    report.check(`${b.name}: SIGTERM under load, exit 0 after the drain`, exit.code === 0, `exit ${JSON.stringify(exit)} after ${took.toFixed(1)} s`);
    report.check(`${b.name}: no sanitizer report`, !b.sanitizerReport(), b.sanitizerReport().slice(0, 300));
    await b.start({ port: b.port });
    await nginx.setUpstreams([b1.port, b2.port]);
  };
  await restart(b1, b2);
  await restart(b2, b1);
  await sleep(1500);
  running = false;
  await load;
  report.check(`zero failed requests through the rolling restart`, stats.failed.length === 0,
    `${stats.total} requests ${JSON.stringify(stats.byMethod)}, by backend ${JSON.stringify(stats.byServer)}; ` +
    `failed ${stats.failed.length}: ${stats.failed.slice(0, 3).join(' | ')}`);
}

function configErrors() {
  // An invalid setting stops the server with exit code 2 and names the variable: never the value.
  const bin = process.env.BACKEND_BIN || join(ROOT, 'backend/build/asan/backend');
  const base = { PATH: process.env.PATH, DB_PASSWORD: SECRET_DB, REDIS_PASSWORD: SECRET_REDIS };
  const runs = [
    ['DB_PORT=abc', { ...base, DB_PORT: 'abc' }],
    ['DB_PASSWORD too long', { ...base, DB_PASSWORD: SECRET_DB.repeat(40) }],
    ['REDIS_PASSWORD too long', { ...base, REDIS_PASSWORD: SECRET_REDIS.repeat(40) }],
    ['DB_PASSWORD_FILE missing', { ...base, DB_PASSWORD_FILE: `/nonexistent/${SECRET_DB}` }],
  ];
  for (const [name, env] of runs) {
    const r = spawnSync(bin, [], { env, encoding: 'utf8', timeout: 10000 });
    seen.push(r.stdout, r.stderr);
    report.check(`${name}: exit 2 with a message naming the variable`, r.status === 2 && /[A-Z_]+:/.test(r.stderr), `${r.status}: ${r.stderr.trim()}`);
  }
  const help = spawnSync(bin, ['--help'], { env: { ...base }, encoding: 'utf8' });
  seen.push(help.stdout, help.stderr);
}

async function wrongRedisPassword() {
  // A wrong Redis password: the cache is down (degraded), and neither password shows anywhere.
  const b = new Backend(deps, { REDIS_PASSWORD: `${SECRET_REDIS}-wrong`, LOG_LEVEL: 'debug' }, { name: 'wrongpw' });
  backends.push(b);
  await b.start();
  await sleep(1200);
  const h = await req(b, '/health');
  report.check('wrong REDIS_PASSWORD: /health degraded, 200', h.status === 200 && h.json.status === 'degraded', h.body);
  await req(b, '/api/users?limit=1');
  await req(b, '/metrics');
  const exit = await b.kill('SIGTERM');
  report.check('wrong REDIS_PASSWORD: clean exit, no sanitizer report', exit.code === 0 && !b.sanitizerReport(), JSON.stringify(exit));
}

function secrets() {
  const sources = { 'responses (bodies and headers)': seen.join('\n') };
  for (const b of backends) {
    sources[`${b.name} log`] = b.logText();
    sources[`${b.name} stderr`] = b.stderr();
  }
  for (const fe of frontends) sources['frontend nginx logs'] = ['access.log', 'error.log'].map((f) => { try { return readFileSync(join(fe.dir, f), 'utf8'); } catch { return ''; } }).join('\n');
  if (nginx) sources['nginx logs'] = ['access.log', 'error.log'].map((f) => { try { return readFileSync(join(nginx.dir, f), 'utf8'); } catch { return ''; } }).join('\n');
  const lines = Object.values(sources).join('\n').split('\n').length;
  for (const [name, text] of Object.entries(sources)) {
    const leak = [SECRET_DB, SECRET_REDIS, 'CANARY'].find((s) => text.includes(s));
    report.check(`no password in ${name}`, !leak, leak ? `found ${leak}` : '');
  }
  console.log(`info scanned ${lines} lines from ${Object.keys(sources).length} sources`);
}

// ABUSE_ONLY=rolling,flood runs a subset while working on one of them.
const only = process.env.ABUSE_ONLY ? process.env.ABUSE_ONLY.split(',') : null;
const common = { DB_PASSWORD: SECRET_DB, DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), LOG_LEVEL: 'debug' };
const a = new Backend(deps, { ...common, HTTP_MAX_CONNECTIONS: '128', HTTP_IDLE_TIMEOUT_SECONDS: '3', STRESS_SLOTS: '2', STRESS_WAIT_MS: '500' }, { name: 'abuse' });
const b1 = new Backend(deps, { ...common, SHUTDOWN_DRAIN_SECONDS: '2', CORS_ALLOW_ORIGIN: 'https://app.example' }, { name: 'roll1' });
const b2 = new Backend(deps, { ...common, SHUTDOWN_DRAIN_SECONDS: '2', CORS_ALLOW_ORIGIN: 'https://app.example' }, { name: 'roll2' });
let viaNginx; // the same status-code cases through nginx (one nginx for the run, in front of `a`)
let failed = false;

before(async () => {
  await deps.start();
  backends.push(a, b1, b2);
  await Promise.all([a.start(), b1.start(), b2.start()]);
  const fe = new Frontend(deps.dir, a.url);
  frontends.push(fe);
  await fe.start(await freePort());
  viaNginx = through(fe, a);
});

after(async () => {
  for (const b of backends) if (b.running()) await b.kill('SIGKILL');
  nginx?.stop();
  for (const fe of frontends) await fe.stop();
  deps.stop({ keep: true });
  if (failed && deps.dir) {
    const dest = join(ROOT, 'artifacts', 'abuse');
    rmSync(dest, { recursive: true, force: true });
    mkdirSync(dest, { recursive: true });
    cpSync(deps.dir, dest, { recursive: true, filter: (f) => !f.includes('/pg/data') });
    console.log(`logs copied to ${dest}`);
  }
  deps.remove();
});

// section NAME KEY FN: one test, skipped when ABUSE_ONLY leaves KEY out (null: always runs).
function section(name, key, fn) {
  test(name, { skip: Boolean(only && key && !only.includes(key)) }, async (t) => {
    current = checks(t);
    try {
      await fn();
      current.done();
    } catch (e) {
      failed = true;
      throw e;
    }
  });
}

section('Redis with requirepass', null, async () => {
  report.check('Redis with requirepass: the cache works with REDIS_PASSWORD',
    (await req(a, '/api/users?limit=1')).status === 200 && (await req(a, '/api/users?limit=1')).headers['x-cache'] === 'HIT');
});
section('malformed HTTP (direct)', 'malformed', () => malformed(a));
section('malformed HTTP (nginx)', 'malformed', () => malformed(viaNginx));
section('bodies over MAX_BODY_BYTES (65536): the 413 reaches the client', 'bodies', () => bodyLimits(a));
section('long URLs and query strings (direct)', 'long', () => longInputs(a));
section('long URLs and query strings (nginx)', 'long', () => longInputs(viaNginx));
section('slowloris (HTTP_MAX_CONNECTIONS=128, HTTP_IDLE_TIMEOUT_SECONDS=3)', 'slowloris', () => slowloris(a, 3));
section('connection flood beyond HTTP_MAX_CONNECTIONS=128', 'flood', () => flood(a));
section('5xx bodies carry no SQL or internal detail', 'errors', () => serverErrors(a));
section('CORS', 'cors', () => cors(a, b1));
section('stress is bounded (STRESS_SLOTS=2, STRESS_WAIT_MS=500)', 'stress', () => stress(a));
section('stress parameters (nginx)', 'stress', () => stressParams(viaNginx));
section('rolling restart behind nginx (SHUTDOWN_DRAIN_SECONDS=2)', 'rolling', () => rolling(b1, b2));
section('configuration errors', 'config', async () => configErrors());
section('a wrong REDIS_PASSWORD', 'redis', () => wrongRedisPassword());
section('shutdown', null, async () => {
  await req(a, '/metrics');
  await req(a, '/health');
  await req(b1, '/metrics');
  for (const b of [a, b1, b2]) {
    const exit = await b.kill('SIGINT');
    report.check(`${b.name}: exit 0 and no sanitizer report`, exit.code === 0 && !b.sanitizerReport(),
      `${JSON.stringify(exit)} ${b.sanitizerReport().slice(0, 400)}`);
  }
});
section(`secrets never leak (DB_PASSWORD=${SECRET_DB.slice(0, 12)}..., REDIS_PASSWORD=${SECRET_REDIS.slice(0, 12)}...)`, null,
  async () => secrets());
