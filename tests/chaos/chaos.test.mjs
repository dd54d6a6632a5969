// Chaos under load (scripts/chaos.sh, `make chaos`): a mixed workload runs against one backend
// while Redis is killed, frozen and restarted and PostgreSQL is stopped (fast and immediate),
// locked and restarted on a fixed schedule. Then it verifies and reports:
//
//  - every acknowledged create/update is in PostgreSQL exactly as acknowledged (created_at
//    included), every acknowledged delete is gone; unacknowledged writes (503, timeouts)
//    may or may not have happened, nothing else may exist;
//  - no 500, no hang (10 s client timeout), no error while PostgreSQL was up; 503s only during
//    a PostgreSQL outage (+5 s recovery), each within the statement timeout (+1 s);
//  - reads kept succeeding while Redis was down (from PostgreSQL) and cached reads while
//    PostgreSQL was down (from Redis);
//  - every read (item and list page) returned a state that was current at some instant of the
//    request: never older than the last write acknowledged before it started;
//  - after recovery every cached read equals PostgreSQL;
//  - one backend process throughout (same pid, uptime only grows), clean exit, no sanitizer
//    report; recovery times after each fault.
//
// CHAOS_SCALE (default 1) stretches the schedule; BACKEND_BIN picks the binary (default: the
// sanitizer build). One node:test test: the report is printed, every problem found fails it.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { Stack, ROOT, PGBIN, alive, sleep, libAsync } from '../lib/stack.mjs';
import { Backend } from '../lib/backend.mjs';
import { request } from '../lib/http.mjs';

const run = promisify(execFile);
const SCALE = Number(process.env.CHAOS_SCALE || 1);
const TIMEOUT_MS = 2000; // DB_STATEMENT_TIMEOUT_MS
const CLIENT_TIMEOUT_MS = 10000;
const RECOVERY_MS = 5000;
const OUT = join(ROOT, 'artifacts', 'chaos');
const T0 = performance.now();
const now = () => performance.now() - T0;
const sec = (ms) => (ms / 1000).toFixed(1);

const deps = new Stack();
let backend;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const ops = [];          // every request made by the workload
const events = [];       // fault schedule as it happened: {name, kind, start, end}
const history = new Map(); // id -> [{kind, t0, t1, outcome, state}]
const unknownCreates = new Map(); // email -> state (a create whose answer we did not get)
const failures = [];
const notes = [];
let stopping = false;
let writesPaused = false;
let writesInFlight = 0;
let warmSet = [];

let failureCount = 0;
function fail(msg) {
  failureCount++;
  if (failures.length < 200) failures.push(msg);
}
function hist(id) { if (!history.has(id)) history.set(id, []); return history.get(id); }


async function call(worker, op, method, path, body) {
  const rec = { worker, op, method, path, t0: now(), t1: 0, status: 0, err: null, cache: null, json: null };
  try {
    const r = await request(backend.url, path, { method, body, agent, timeout: CLIENT_TIMEOUT_MS });
    rec.status = r.status;
    rec.cache = r.headers['x-cache'] || null;
    rec.json = r.json;
    rec.body = r.status >= 500 ? r.body : undefined;
  } catch (e) {
    rec.err = e.message;
  }
  rec.t1 = now();
  ops.push(rec);
  return rec;
}

const isUnknown = (r) => r.err || r.status === 503 || r.status >= 500;
const stateOf = (u) => ({ name: u.name, email: u.email, created_at: u.created_at });

// ---- the workload ----

const settleWork = []; // per writer: {w, owned, unsureDeletes}

async function writer(w) {
  const owned = []; // {id}
  const unsureDeletes = [];
  settleWork.push({ w, owned, unsureDeletes });
  let n = 0;
  while (!stopping) {
    while (writesPaused && !stopping) await sleep(20);
    n++;
    const roll = Math.random();
    const target = owned.length ? owned[Math.floor(Math.random() * owned.length)] : null;
    if (!target || roll < 0.3 || owned.length < 3) {
      const email = `w${w}-${n}-${Date.now()}@chaos.example`;
      const state = { name: `Writer ${w} #${n}`, email };
      writesInFlight++;
      const r = await call(w, 'create', 'POST', '/api/users', state);
      writesInFlight--;
      if (r.status === 201) {
        hist(r.json.id).push({ kind: 'create', t0: r.t0, t1: r.t1, outcome: 'ack', state: stateOf(r.json) });
        createdIds.push(r.json.id);
        owned.push({ id: r.json.id });
        if (r.json.name !== state.name || r.json.email !== state.email) fail(`create answered ${JSON.stringify(r.json)} for ${JSON.stringify(state)}`);
      } else if (isUnknown(r)) {
        unknownCreates.set(email, { ...state, t0: r.t0 });
      }
    } else if (roll < 0.65) {
      const state = { name: `Writer ${w} #${n} upd`, email: `w${w}-${n}-u${Date.now()}@chaos.example` };
      writesInFlight++;
      const r = await call(w, 'update', 'PUT', `/api/users/${target.id}`, state);
      writesInFlight--;
      const outcome = r.status === 200 ? 'ack' : isUnknown(r) ? 'unknown' : 'rejected';
      const ev = { kind: 'update', t0: r.t0, t1: r.t1, outcome, state: r.status === 200 ? stateOf(r.json) : { ...state, created_at: null } };
      hist(target.id).push(ev);
      if (r.status === 404) fail(`update of live id ${target.id} answered 404`);
    } else if (roll < 0.75) {
      writesInFlight++;
      const r = await call(w, 'delete', 'DELETE', `/api/users/${target.id}`);
      writesInFlight--;
      const outcome = r.status === 204 ? 'ack' : isUnknown(r) ? 'unknown' : 'rejected';
      hist(target.id).push({ kind: 'delete', t0: r.t0, t1: r.t1, outcome, state: null });
      if (r.status === 404) fail(`delete of live id ${target.id} answered 404`);
      // Whatever happened, this id is no longer worked on (an unknown delete may have happened).
      if (outcome !== 'rejected') owned.splice(owned.indexOf(target), 1);
      if (outcome === 'unknown') unsureDeletes.push(target.id);
    } else {
      await call(w, 'get', 'GET', `/api/users/${target.id}`);
    }
  }
}

const createdIds = []; // every id whose create was acknowledged, in order
function knownIds() {
  return createdIds;
}

async function reader(w) {
  while (!stopping) {
    const ids = knownIds();
    const roll = Math.random();
    if (roll < 0.6 && ids.length) await call(w, 'get', 'GET', `/api/users/${ids[Math.floor(Math.random() * ids.length)]}`);
    else if (roll < 0.85) await call(w, 'list', 'GET', '/api/users?limit=20');
    else if (ids.length) await call(w, 'list', 'GET', `/api/users?limit=10&before=${ids[Math.floor(Math.random() * ids.length)]}`);
  }
}

// Reads the ids warmed into the cache before each PostgreSQL outage, over and over.
async function cachedReader(w) {
  while (!stopping) {
    if (!warmSet.length) { await sleep(50); continue; }
    for (const id of warmSet) {
      if (stopping) break;
      await call(w, 'warm-get', 'GET', `/api/users/${id}`);
    }
    await call(w, 'warm-list', 'GET', '/api/users?limit=20');
  }
}

async function stresser(w) {
  while (!stopping) {
    await call(w, 'stress', 'GET', '/api/stress?ms=50');
    await sleep(100);
  }
}

const probes = []; // {t, uptime, pid}
async function prober(w) {
  while (!stopping) {
    await call(w, 'live', 'GET', '/health/live');
    const h = await call(w, 'health', 'GET', '/health');
    if (h.json) probes.push({ t: h.t0, uptime: h.json.uptime_seconds, status: h.json.status });
    await sleep(250);
  }
}

// After the faults: one more acknowledged write on every id whose last write went unanswered,
// so that the final check can demand every row exactly as acknowledged.
async function settle() {
  let rewritten = 0;
  for (const { w, owned, unsureDeletes } of settleWork) {
    for (const { id } of owned) {
      const h = hist(id);
      if (h[h.length - 1].outcome === 'ack') continue;
      for (let i = 0; i < 10; i++) {
        const state = { name: `Writer ${w} settled`, email: `w${w}-settle-${id}-${i}@chaos.example` };
        const r = await call(w, 'update', 'PUT', `/api/users/${id}`, state);
        h.push({ kind: 'update', t0: r.t0, t1: r.t1, outcome: r.status === 200 ? 'ack' : isUnknown(r) ? 'unknown' : 'rejected', state: r.status === 200 ? stateOf(r.json) : { ...state, created_at: null } });
        if (r.status === 200) { rewritten++; break; }
        await sleep(200);
      }
    }
    for (const id of unsureDeletes) {
      for (let i = 0; i < 10; i++) {
        const r = await call(w, 'delete', 'DELETE', `/api/users/${id}`);
        if (r.status === 204 || r.status === 404) {
          hist(id).push({ kind: 'delete', t0: r.t0, t1: r.t1, outcome: 'ack', state: null });
          rewritten++;
          break;
        }
        await sleep(200);
      }
    }
  }
  return rewritten;
}

// ---- faults ----

async function fault(name, kind, action, undo, downMs) {
  const ev = { name, kind, start: now(), end: 0, recovered_ms: null };
  events.push(ev);
  console.log(`[${sec(now())}s] ${name}`);
  await action();
  await sleep(downMs);
  ev.undo = now();
  await undo();
  ev.end = now();
  ev.recovered_ms = await recovery(kind);
  console.log(`[${sec(now())}s]   back after ${sec(ev.end - ev.start)} s; service recovered ${ev.recovered_ms === null ? 'NOT within 15 s' : `in ${ev.recovered_ms.toFixed(0)} ms`}`);
  if (ev.recovered_ms === null) fail(`${name}: no recovery within 15 s`);
}

// Time until the dependency that came back is used again: ready (PostgreSQL), a cache hit (Redis).
async function recovery(kind) {
  const t = now();
  while (now() - t < 15000) {
    try {
      if (kind.includes('pg')) {
        const r = await request(backend.url, '/health/ready', { timeout: 1000 });
        const w = await request(backend.url, '/api/users?limit=1', { timeout: 3000 });
        if (r.status !== 200 || w.status !== 200) { await sleep(50); continue; }
      }
      if (kind.includes('redis')) {
        // Writes bump the cache generation many times a second: hold them for two reads.
        writesPaused = true;
        while (writesInFlight > 0) await sleep(2);
        const p = '/api/users?limit=3';
        await request(backend.url, p, { timeout: 1000 });
        const r = await request(backend.url, p, { timeout: 1000 });
        writesPaused = false;
        if (r.headers['x-cache'] !== 'HIT') { await sleep(50); continue; }
      }
      return now() - t;
    } catch { await sleep(50); }
  }
  return null;
}

// Pause writes, fill the cache with some live ids and the first list page: while PostgreSQL
// is down these must keep coming from Redis.
async function warmCache() {
  writesPaused = true;
  while (writesInFlight > 0) await sleep(5);
  const live = [];
  for (const [id, h] of history) {
    const last = h[h.length - 1];
    if (last.outcome === 'ack' && last.kind !== 'delete' && h.every((e) => e.outcome !== 'unknown')) live.push(id);
  }
  const set = live.slice(-25);
  for (const id of set) {
    await request(backend.url, `/api/users/${id}`, { agent, timeout: 3000 });
    await request(backend.url, `/api/users/${id}`, { agent, timeout: 3000 });
  }
  await request(backend.url, '/api/users?limit=20', { agent, timeout: 3000 });
  await request(backend.url, '/api/users?limit=20', { agent, timeout: 3000 });
  warmSet = set;
}

// SIGKILL, then wait (without blocking the workload) until the process is gone.
const redisKill = async () => {
  const pid = deps.redisPid();
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  while (alive(pid)) await sleep(10);
};
const redisStart = () => run('redis-server', [join(deps.dir, 'redis', 'redis.conf')]).then(() => sleep(200));
const pgStop = (mode) => () => libAsync('pg_stop', join(deps.dir, 'pg'), mode);
const pgStart = () => libAsync('pg_start', join(deps.dir, 'pg'), String(deps.pgPort));
let locker = null;
const pgLock = async () => {
  locker = spawn(join(PGBIN, 'psql'), ['-h', '127.0.0.1', '-p', String(deps.pgPort), '-U', 'app', '-d', 'webapp', '-q',
    '-c', `BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(${(5 * SCALE).toFixed(1)}); COMMIT;`], { stdio: 'ignore' });
  await sleep(200);
};
const pgUnlock = () => new Promise((resolve) => { if (locker.exitCode !== null) resolve(); else locker.on('exit', resolve); });

async function schedule() {
  const gap = (s) => sleep(s * 1000 * SCALE);
  const down = (s) => s * 1000 * SCALE;
  await gap(8);
  await fault('Redis killed (SIGKILL)', 'redis', redisKill, redisStart, down(10));
  await gap(6);
  await warmCache();
  const pgFast = async () => { await pgStop('fast')(); writesPaused = false; };
  await fault('PostgreSQL stopped (fast)', 'pg', pgFast, pgStart, down(12));
  await gap(6);
  await fault('Redis frozen (SIGSTOP)', 'redis-frozen', () => deps.killRedis('SIGSTOP'), () => deps.killRedis('SIGCONT'), down(6));
  await gap(6);
  await warmCache();
  const pgImmediate = async () => { await pgStop('immediate')(); writesPaused = false; };
  await fault('PostgreSQL crashed (immediate)', 'pg', pgImmediate, pgStart, down(10));
  await gap(6);
  await fault('PostgreSQL table locked (statements time out)', 'pg-lock', pgLock, pgUnlock, 0);
  await gap(6);
  await fault('PostgreSQL crashed in the middle of writes (immediate)', 'pg-crash', pgStop('immediate'), pgStart, down(6));
  await gap(6);
  await fault('Redis killed and PostgreSQL stopped together', 'pg+redis',
    async () => { await redisKill(); await pgStop('fast')(); }, async () => { await pgStart(); await redisStart(); }, down(8));
  await gap(6);
  await fault('Redis killed, PostgreSQL stopped while Redis is down, Redis back first', 'pg+redis',
    async () => { await redisKill(); await sleep(down(3)); await pgStop('immediate')(); await sleep(down(3)); await redisStart(); },
    pgStart, down(4));
  await gap(8);
}

// ---- verification ----

// The states a read spanning [s, e] may return for id: the state after the last write
// acknowledged before s, or any write (acknowledged or not) after that one starting before e.
function candidates(id, s, e) {
  const h = history.get(id) || [];
  let base = -1;
  for (let i = 0; i < h.length; i++) if (h[i].outcome === 'ack' && h[i].t1 < s) base = i;
  const out = [base < 0 ? null : h[base].state];
  for (let i = base + 1; i < h.length; i++) {
    if (h[i].t0 < e && h[i].outcome !== 'rejected') out.push(h[i].state);
  }
  return out;
}
function sameState(a, b) {
  if (a === null || b === null) return a === b;
  return a.name === b.name && a.email === b.email && (a.created_at == null || b.created_at == null || a.created_at === b.created_at);
}
function matches(id, got, s, e) {
  return candidates(id, s, e).some((c) => sameState(c, got));
}
const byEmail = new Map();

function inWindow(t, kinds, after = 0) {
  return events.some((ev) => kinds.some((k) => ev.kind.includes(k)) && t >= ev.start - 200 && t <= ev.end + after);
}

let sortedIds = [];
// Index of the first element of the sorted array a greater than x.
function upperBound(a, x) {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] <= x) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function verifyOps() {
  sortedIds = [...history.keys()].sort((a, b) => a - b);
  const stats = { total: ops.length, byStatus: {}, maxMs: 0, s503: 0, max503: 0, redisDownReads: 0, redisDownReadFail: 0,
    pgDownWarmReads: 0, pgDownWarmHits: 0, pgDownWarmFail: 0, staleReads: 0, listChecked: 0, itemChecked: 0 };
  for (const r of ops) {
    const key = r.err ? 'error' : String(r.status);
    stats.byStatus[key] = (stats.byStatus[key] || 0) + 1;
    const ms = r.t1 - r.t0;
    stats.maxMs = Math.max(stats.maxMs, ms);
    if (r.err) { fail(`${r.method} ${r.path} at ${sec(r.t0)} s: ${r.err}`); continue; }
    if (r.status >= 500 && r.status !== 503) fail(`${r.method} ${r.path} at ${sec(r.t0)} s: ${r.status} ${r.body}`);
    const pgOut = inWindow(r.t0, ['pg'], RECOVERY_MS) || inWindow(r.t1, ['pg'], RECOVERY_MS);
    if (r.status === 503) {
      stats.s503++;
      stats.max503 = Math.max(stats.max503, ms);
      if (r.op !== 'health' && !pgOut) fail(`${r.method} ${r.path}: 503 at ${sec(r.t0)} s while PostgreSQL was up`);
      if (ms > TIMEOUT_MS + 1000) fail(`${r.method} ${r.path}: 503 after ${ms.toFixed(0)} ms (statement timeout ${TIMEOUT_MS} ms)`);
    }
    if (ms > 2 * TIMEOUT_MS + 1000 && r.op !== 'stress') fail(`${r.method} ${r.path} took ${ms.toFixed(0)} ms at ${sec(r.t0)} s`);
    if (r.op === 'live' && (r.status !== 200 || ms > 1000)) fail(`/health/live ${r.status} in ${ms.toFixed(0)} ms at ${sec(r.t0)} s`);
    if (r.op === 'stress' && ![200, 429].includes(r.status)) fail(`stress answered ${r.status}`);
    const isRead = r.method === 'GET' && ['get', 'list', 'warm-get', 'warm-list'].includes(r.op);
    const redisOut = inWindow(r.t0, ['redis']) && !pgOut;
    if (isRead && redisOut) {
      stats.redisDownReads++;
      if (![200, 404].includes(r.status)) { stats.redisDownReadFail++; fail(`read ${r.path} during a Redis outage: ${r.status}`); }
    }
    const pgDownOnly = events.some((ev) => ev.kind === 'pg' && r.t0 >= ev.start + 500 && r.t1 <= ev.undo);
    if (r.op.startsWith('warm') && pgDownOnly) {
      stats.pgDownWarmReads++;
      if (r.status === 200 && r.cache === 'HIT') stats.pgDownWarmHits++;
      else { stats.pgDownWarmFail++; fail(`cached read ${r.path} during a PostgreSQL outage: ${r.status} ${r.cache}`); }
    }
    // Freshness of every item read.
    if (r.op.endsWith('get') && r.method === 'GET' && (r.status === 200 || r.status === 404)) {
      const id = Number(r.path.split('/').pop());
      const got = r.status === 200 ? stateOf(r.json) : null;
      stats.itemChecked++;
      if (history.has(id) && !matches(id, got, r.t0, r.t1)) {
        stats.staleReads++;
        fail(`GET ${r.path} at ${sec(r.t0)}-${sec(r.t1)} s (${r.cache}) returned ${JSON.stringify(got)}; possible: ${JSON.stringify(candidates(id, r.t0, r.t1))}`);
      }
    }
    if (r.op.endsWith('list') && r.status === 200) {
      stats.listChecked++;
      verifyList(r, stats);
    }
  }
  return stats;
}

function verifyList(r, stats) {
  const items = r.json;
  const seen = new Set();
  for (const u of items) {
    seen.add(u.id);
    if (history.has(u.id)) {
      if (!matches(u.id, stateOf(u), r.t0, r.t1)) {
        stats.staleReads++;
        fail(`list ${r.path} at ${sec(r.t0)} s (${r.cache}) had ${JSON.stringify(u)}; possible: ${JSON.stringify(candidates(u.id, r.t0, r.t1))}`);
      }
    } else if (!unknownCreates.has(u.email) && !byEmail.has(u.email)) {
      fail(`list ${r.path} returned a user nobody created: ${JSON.stringify(u)}`);
    }
  }
  // Completeness of a first page: every id above its lowest one that certainly existed.
  if (r.path.includes('before=')) return;
  const limit = Number(new URL(r.path, 'http://x').searchParams.get('limit'));
  const floor = items.length === limit ? Math.min(...items.map((u) => u.id)) : 0;
  for (let i = upperBound(sortedIds, floor); i < sortedIds.length; i++) {
    const id = sortedIds[i];
    // Ids grow with time: once creates start well after this read ended, none can be missing.
    if (history.get(id)[0].t0 > r.t1 + CLIENT_TIMEOUT_MS) break;
    if (seen.has(id)) continue;
    const c = candidates(id, r.t0, r.t1);
    if (c.every((x) => x !== null)) {
      stats.staleReads++;
      fail(`list ${r.path} at ${sec(r.t0)} s (${r.cache}) misses id ${id}, which existed throughout the request`);
    }
  }
}

async function verifyDatabase() {
  const { stdout } = await run(join(PGBIN, 'psql'), ['-h', '127.0.0.1', '-p', String(deps.pgPort), '-U', 'app', '-d', 'webapp', '-qAt',
    '-c', `SELECT json_agg(json_build_object('id', id, 'name', name, 'email', email, 'created_at',
      to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))) FROM users`], { maxBuffer: 1 << 28 });
  const rows = JSON.parse(stdout.trim() || 'null') || [];
  const db = new Map(rows.map((u) => [u.id, u]));
  const res = { rows: rows.length, exact: 0, deleted: 0, unknownResolved: 0, phantomCreates: 0, apiChecked: 0 };
  for (const [id, h] of history) {
    const row = db.get(id) ? stateOf(db.get(id)) : null;
    const c = candidates(id, Infinity, Infinity);
    if (!c.some((x) => sameState(x, row))) {
      fail(`id ${id}: PostgreSQL has ${JSON.stringify(row)}, acknowledged history allows ${JSON.stringify(c)}`);
      continue;
    }
    if (c.length === 1) { if (row) res.exact++; else res.deleted++; }
    else res.unknownResolved++;
    void h;
  }
  for (const u of rows) {
    if (history.has(u.id)) continue;
    if (unknownCreates.has(u.email)) res.phantomCreates++;
    else fail(`PostgreSQL has a user nobody created: ${JSON.stringify(u)}`);
  }
  // After recovery, every read through the cache equals PostgreSQL (twice: miss, then hit).
  const ids = [...history.keys()];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < ids.length) {
      const id = ids[next++];
      const want = db.get(id) ? stateOf(db.get(id)) : null;
      for (let i = 0; i < 2; i++) {
        const r = await request(backend.url, `/api/users/${id}`, { agent, timeout: 5000 });
        const got = r.status === 200 ? stateOf(r.json) : r.status === 404 ? null : 'error';
        res.apiChecked++;
        if (!sameState(want, got)) { fail(`after recovery GET /api/users/${id} (${r.headers['x-cache']}) = ${JSON.stringify(got)}, PostgreSQL has ${JSON.stringify(want)}`); break; }
      }
    }
  }));
  for (let limit of [20, 100]) {
    for (let i = 0; i < 2; i++) {
      const r = await request(backend.url, `/api/users?limit=${limit}`, { agent, timeout: 5000 });
      const want = rows.slice().sort((a, b) => b.id - a.id).slice(0, limit);
      if (JSON.stringify(r.json) !== JSON.stringify(want)) fail(`after recovery the first ${limit} users differ from PostgreSQL (${r.headers['x-cache']})`);
    }
  }
  return res;
}

async function main() {
  await deps.start();
  backend = new Backend(deps, { DB_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS), STRESS_SLOTS: '2', HTTP_MAX_CONNECTIONS: '1024' }, { name: 'chaos' });
  await backend.start();
  const pid = backend.pid;
  console.log(`backend pid ${pid} on ${backend.url}; PostgreSQL ${deps.pgPort}, Redis ${deps.redisPort}; schedule x${SCALE}`);
  const workers = [
    ...[0, 1, 2, 3].map((w) => writer(w)),
    reader(10), reader(11), cachedReader(20), stresser(30), prober(40),
  ];
  await schedule();
  stopping = true;
  await Promise.all(workers);
  const tWork = now();
  const settled = await settle();
  console.log(`[${sec(now())}s] workload stopped; ${settled} ids settled with a final acknowledged write; verifying ${ops.length} requests`);

  for (const [id, h] of history) for (const e of h) if (e.state) byEmail.set(e.state.email, id);
  let t = performance.now();
  const stats = verifyOps();
  console.log(`[${sec(now())}s] ${ops.length} responses checked in ${sec(performance.now() - t)} s; now PostgreSQL row by row`);
  t = performance.now();
  const dbres = await verifyDatabase();
  console.log(`[${sec(now())}s] PostgreSQL and the cache checked in ${sec(performance.now() - t)} s`);

  // One process throughout: same pid, alive, uptime never went backwards.
  const sameProcess = backend.pid === pid && alive(pid) && backend.running();
  if (!sameProcess) fail(`the backend process changed or died (pid ${pid})`);
  for (let i = 1; i < probes.length; i++) if (probes[i].uptime < probes[i - 1].uptime) fail(`uptime went backwards at ${sec(probes[i].t)} s: the server restarted`);
  const exit = await backend.kill('SIGTERM');
  if (exit.code !== 0) fail(`backend exit ${JSON.stringify(exit)} on SIGTERM`);
  if (backend.sanitizerReport()) fail(`sanitizer report:\n${backend.sanitizerReport().slice(0, 2000)}`);

  const report = {
    duration_s: Number(sec(tWork)), requests: stats.total, by_status: stats.byStatus,
    max_latency_ms: Math.round(stats.maxMs), responses_503: stats.s503, max_503_ms: Math.round(stats.max503),
    reads_while_redis_down: stats.redisDownReads, failed_reads_while_redis_down: stats.redisDownReadFail,
    cached_reads_while_pg_down: stats.pgDownWarmReads, cache_hits_while_pg_down: stats.pgDownWarmHits,
    item_reads_checked: stats.itemChecked, list_pages_checked: stats.listChecked, stale_reads: stats.staleReads,
    users_in_postgres: dbres.rows, acknowledged_exact: dbres.exact, acknowledged_deletes_gone: dbres.deleted,
    ids_with_unacknowledged_writes: dbres.unknownResolved, unacknowledged_creates_that_committed: dbres.phantomCreates,
    reads_after_recovery_equal_to_postgres: dbres.apiChecked,
    faults: events.map((e) => ({ fault: e.name, at_s: Number(sec(e.start)), down_s: Number(sec(e.end - e.start)), recovered_ms: e.recovered_ms === null ? null : Math.round(e.recovered_ms) })),
    same_process: sameProcess, exit_code: exit.code, failures: failureCount,
  };
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  printReport(report);
  return failureCount === 0;
}

function printReport(r) {
  const line = (k, v) => console.log(`  ${k.padEnd(46)} ${v}`);
  console.log('\nChaos report');
  line('workload', `${r.requests} requests in ${r.duration_s} s; statuses ${JSON.stringify(r.by_status)}`);
  line('slowest response', `${r.max_latency_ms} ms`);
  line('503 responses (all during PostgreSQL outages)', `${r.responses_503}, slowest ${r.max_503_ms} ms (timeout ${TIMEOUT_MS} ms)`);
  line('reads while Redis was down', `${r.reads_while_redis_down}, failed ${r.failed_reads_while_redis_down}`);
  line('cached reads while PostgreSQL was down', `${r.cached_reads_while_pg_down}, served from Redis ${r.cache_hits_while_pg_down}`);
  line('reads checked for freshness', `${r.item_reads_checked} items, ${r.list_pages_checked} list pages: ${r.stale_reads} stale`);
  line('users in PostgreSQL', r.users_in_postgres);
  line('present exactly as last acknowledged', `${r.acknowledged_exact} (name, email, created_at)`);
  line('acknowledged deletes gone', r.acknowledged_deletes_gone);
  line('ids left with an unanswered write (either ok)', r.ids_with_unacknowledged_writes);
  line('unacknowledged creates that did commit', r.unacknowledged_creates_that_committed);
  line('reads after recovery equal to PostgreSQL', r.reads_after_recovery_equal_to_postgres);
  for (const f of r.faults) line(`fault at ${f.at_s} s`, `${f.fault}: down ${f.down_s} s, recovered in ${f.recovered_ms} ms`);
  line('one process throughout, exit code', `${r.same_process}, ${r.exit_code}`);
  if (failureCount) {
    console.log(`\nFAILED: ${failureCount} problem(s); first ones:`);
    for (const f of failures.slice(0, 25)) console.log(`  - ${f}`);
  } else {
    console.log('\nchaos: every promise held');
  }
}

after(async () => {
  stopping = true;
  agent.destroy();
  try { deps.killRedis('SIGCONT'); } catch { /* not frozen */ }
  if (backend?.running()) await backend.kill('SIGKILL');
  deps.stop({ keep: true });
  mkdirSync(OUT, { recursive: true });
  writeFileSync(join(OUT, 'ops.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
  if (deps.dir) {
    rmSync(join(OUT, 'logs'), { recursive: true, force: true });
    cpSync(deps.dir, join(OUT, 'logs'), { recursive: true, filter: (f) => !f.includes('/pg/data') });
  }
  deps.remove();
});

test(`chaos under load (schedule x${SCALE}): nothing acknowledged is lost, no stale read, no 500`, async () => {
  const ok = await main();
  assert.ok(ok, `${failureCount} problem(s); first ones:\n  ${failures.slice(0, 25).join('\n  ')}`);
});
