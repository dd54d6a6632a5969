// Test harness: real PostgreSQL and Redis on free loopback ports in a temporary directory,
// and backends (the sanitizer build) started and stopped per test. No mocks.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { checkResponse } from '../lib/openapi.mjs';
import { Frontend } from '../lib/frontend.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BACKEND = process.env.BACKEND_BIN || join(ROOT, 'backend/build/asan/backend');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export { sleep };

// Run a function from scripts/lib.sh.
function lib(fn, ...args) {
  execFileSync('bash', ['-c', `. "${ROOT}/scripts/lib.sh"; ${fn} "$@"`, 'lib', ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

// A free loopback port below 32768: outside the kernel's range for outgoing connections, so no
// client socket can take it between this check and the server's bind.
export async function freePort() {
  for (let i = 0; i < 200; i++) {
    const port = 10000 + Math.floor(Math.random() * 22000);
    const free = await new Promise((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port');
}

// One PostgreSQL + Redis pair for a test file.
export class Deps {
  async start() {
    this.dir = mkdtempSync(join(tmpdir(), 'webapp-it-'));
    chmodSync(this.dir, 0o755); // initdb runs as the postgres user
    this.pgPort = await freePort();
    this.redisPort = await freePort();
    lib('pg_start', join(this.dir, 'pg'), String(this.pgPort));
    this.startRedis();
    return this;
  }
  startRedis() { lib('redis_start', join(this.dir, 'redis'), String(this.redisPort)); }
  stopRedis() { lib('redis_stop', join(this.dir, 'redis')); }
  startPg() { lib('pg_start', join(this.dir, 'pg'), String(this.pgPort)); }
  stopPg(mode = 'fast') { lib('pg_stop', join(this.dir, 'pg'), mode); }
  psql(sql) {
    return execFileSync(join(pgBin(), 'psql'), ['-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'app',
      '-d', 'webapp', '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  }
  redis(...args) {
    return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), ...args],
      { encoding: 'utf8' }).trim();
  }
  env() {
    return {
      DB_HOST: '127.0.0.1', DB_PORT: String(this.pgPort), DB_USER: 'app', DB_NAME: 'webapp',
      REDIS_HOST: '127.0.0.1', REDIS_PORT: String(this.redisPort),
    };
  }
  async stop() {
    if (!this.dir) return;
    try { this.stopRedis(); } catch { /* already stopped */ }
    try { this.stopPg(); } catch { /* already stopped */ }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function pgBin() {
  const out = execFileSync('bash', ['-c', `. "${ROOT}/scripts/lib.sh"; echo "$PGBIN"`], { encoding: 'utf8' });
  return out.trim();
}

// A backend process. Its stdout (JSON logs) and stderr (sanitizer reports) go to files.
export class Backend {
  constructor(deps, env = {}) {
    this.deps = deps;
    this.extraEnv = env;
  }
  async start({ waitReady = true } = {}) {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.logPath = join(this.deps.dir, `backend-${this.port}.log`);
    this.errPath = join(this.deps.dir, `backend-${this.port}.err`);
    const env = {
      PATH: process.env.PATH, ...this.deps.env(), SERVER_PORT: String(this.port),
      BIND_ADDRESS: '127.0.0.1', POD_NAME: `it-${this.port}`, SHUTDOWN_DRAIN_SECONDS: '0',
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:exitcode=86',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87', ...this.extraEnv,
    };
    this.proc = spawn(BACKEND, [], {
      env, stdio: ['ignore', openSync(this.logPath, 'a'), openSync(this.errPath, 'a')],
    });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    await this.waitFor(waitReady ? '/health/ready' : '/health/live', 200, 30000);
    return this;
  }
  async waitFor(path, status, ms) {
    const deadline = Date.now() + ms;
    let last;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(this.url + path, { signal: AbortSignal.timeout(1000) });
        last = res.status;
        if (res.status === status) return;
      } catch (e) { last = e.message; }
      if (this.proc.exitCode !== null) throw new Error(`backend exited (${this.proc.exitCode}): ${this.stderr()}`);
      await sleep(50);
    }
    throw new Error(`${path} did not answer ${status} within ${ms} ms (last: ${last})`);
  }
  logs() { return readFileSync(this.logPath, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)); }
  stderr() { try { return readFileSync(this.errPath, 'utf8'); } catch { return ''; } }
  // Stop with SIGTERM and return the exit; fails on a sanitizer report.
  async stop(signal = 'SIGTERM') {
    if (this.proc.exitCode === null) this.proc.kill(signal);
    const exit = await this.exited;
    const err = this.stderr();
    if (/Sanitizer|runtime error/.test(err)) throw new Error(`sanitizer report:\n${err}`);
    return exit;
  }
}

// Where the contract tests send their requests: to the backend, and through nginx rendered
// from the real template (frontend/nginx/render.sh) in front of it. Same cases, same statuses.
export const VIA = ['direct', 'nginx'];

// The base URL for `via`: the backend's own, or an nginx started in front of it (returned so
// that the caller stops it after the backend's tests).
export async function target(via, be) {
  if (via === 'direct') return { url: be.url, async stop() {} };
  const fe = new Frontend(be.deps.dir, be.url);
  await fe.start(await freePort());
  return fe;
}

// fetch with a JSON body and a bounded time; returns {status, headers, body, json, ms}.
// Every response is checked against backend/openapi.yaml (route, status, headers, body
// schema): a mismatch fails the request, so no test has to remember to check.
// chunked: send the body with Transfer-Encoding: chunked (16 KiB chunks) instead of a length.
export async function request(base, path, { method = 'GET', body, headers = {}, timeout = 10000, chunked = false } = {}) {
  const t0 = performance.now();
  let data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (chunked && data !== undefined) {
    const bytes = Buffer.from(data);
    data = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 16384) c.enqueue(bytes.subarray(i, i + 16384));
        c.close();
      },
    });
  }
  const res = await fetch(base + path, {
    method, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: data, duplex: chunked ? 'half' : undefined, signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  const out = { status: res.status, headers: res.headers, body: text, json, ms: performance.now() - t0 };
  checkResponse(method, path, out);
  return out;
}
