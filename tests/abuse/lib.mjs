// Shared by the abuse and chaos tests: real PostgreSQL and Redis on free loopback ports in a
// temporary directory, backends and nginx started and stopped by pid, raw sockets and HTTP.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, writeFileSync, rmSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer, connect } from 'node:net';
import http from 'node:http';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function lib(fn, ...args) {
  return execFileSync('bash', ['-c', `. "${ROOT}/scripts/lib.sh"; ${fn} "$@"`, 'lib', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8',
  });
}
export const PGBIN = lib('echo "$PGBIN"').trim();

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// PostgreSQL (trust auth, any password works) and Redis (requirepass when a password is given).
export class Deps {
  constructor({ redisPassword = '' } = {}) { this.redisPassword = redisPassword; }
  async start() {
    this.dir = mkdtempSync(join(tmpdir(), 'webapp-rel-'));
    chmodSync(this.dir, 0o755); // initdb runs as the postgres user
    this.pgPort = await freePort();
    this.redisPort = await freePort();
    this.startPg();
    this.startRedis();
    return this;
  }
  startPg() { lib('pg_start', join(this.dir, 'pg'), String(this.pgPort)); }
  stopPg(mode = 'fast') { lib('pg_stop', join(this.dir, 'pg'), mode); }
  pgPid() {
    const f = join(this.dir, 'pg', 'data', 'postmaster.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[0]) : 0;
  }
  // Redis from a config file, so its password is not on a command line.
  startRedis() {
    const d = join(this.dir, 'redis');
    execFileSync('mkdir', ['-p', d]);
    const conf = join(d, 'redis.conf');
    writeFileSync(conf, [`bind 127.0.0.1`, `port ${this.redisPort}`, `save ""`, `appendonly no`,
      `daemonize yes`, `pidfile ${d}/redis.pid`, `logfile ${d}/redis.log`, `dir ${d}`,
      this.redisPassword ? `requirepass ${this.redisPassword}` : ''].join('\n') + '\n', { mode: 0o600 });
    execFileSync('redis-server', [conf]);
    for (let i = 0; i < 100; i++) {
      try { if (this.redis('PING') === 'PONG') return; } catch { /* not yet */ }
      execFileSync('sleep', ['0.1']);
    }
    throw new Error(`Redis did not start on ${this.redisPort}`);
  }
  redisPid() {
    const f = join(this.dir, 'redis', 'redis.pid');
    try { return Number(readFileSync(f, 'utf8').trim()); } catch { return 0; }
  }
  // SIGKILL: a crash, not a shutdown. Waits until the process is gone.
  killRedis(signal = 'SIGKILL') {
    const pid = this.redisPid();
    if (!pid) return;
    try { process.kill(pid, signal); } catch { return; }
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return;
    for (let i = 0; i < 100 && alive(pid); i++) execFileSync('sleep', ['0.05']);
  }
  stopRedis() { lib('redis_stop', join(this.dir, 'redis')); }
  redis(...args) {
    const env = { ...process.env, REDISCLI_AUTH: this.redisPassword };
    return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), ...args],
      { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  }
  psql(sql) {
    return execFileSync(join(PGBIN, 'psql'), ['-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'app',
      '-d', 'webapp', '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  }
  env() {
    return {
      DB_HOST: '127.0.0.1', DB_PORT: String(this.pgPort), DB_USER: 'app', DB_NAME: 'webapp',
      REDIS_HOST: '127.0.0.1', REDIS_PORT: String(this.redisPort), REDIS_PASSWORD: this.redisPassword,
    };
  }
  stop() {
    if (!this.dir) return;
    try { this.killRedis('SIGCONT'); } catch { /* not stopped */ }
    try { this.stopRedis(); } catch { /* already stopped */ }
    try { this.stopPg(); } catch { /* already stopped */ }
  }
  remove() { if (this.dir) rmSync(this.dir, { recursive: true, force: true }); }
}

export function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

const SANITIZER = /Sanitizer|runtime error:|LeakSanitizer/;

// A backend process; stdout (JSON logs) and stderr go to files in deps.dir.
export class Backend {
  constructor(deps, env = {}, { bin, name } = {}) {
    this.deps = deps;
    this.extraEnv = env;
    this.bin = bin || process.env.BACKEND_BIN || join(ROOT, 'backend/build/asan/backend');
    this.name = name || 'backend';
  }
  async start({ port, waitReady = true } = {}) {
    this.port = port || this.port || await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.logPath = join(this.deps.dir, `${this.name}-${this.port}.log`);
    this.errPath = join(this.deps.dir, `${this.name}-${this.port}.err`);
    const env = {
      PATH: process.env.PATH, ...this.deps.env(), SERVER_PORT: String(this.port),
      BIND_ADDRESS: '127.0.0.1', POD_NAME: `${this.name}-${this.port}`, SHUTDOWN_DRAIN_SECONDS: '0',
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:exitcode=86',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87', ...this.extraEnv,
    };
    this.proc = spawn(this.bin, [], {
      env, stdio: ['ignore', openSync(this.logPath, 'a'), openSync(this.errPath, 'a')],
    });
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    await this.waitFor(waitReady ? '/health/ready' : '/health/live', 200, 30000);
    return this;
  }
  async waitFor(path, status, ms) {
    const deadline = Date.now() + ms;
    let last;
    while (Date.now() < deadline) {
      try {
        const r = await request(this.url, path, { timeout: 1000 });
        last = r.status;
        if (r.status === status) return;
      } catch (e) { last = e.message; }
      if (this.proc.exitCode !== null) throw new Error(`${this.name} exited (${this.proc.exitCode}): ${this.stderr()}`);
      await sleep(50);
    }
    throw new Error(`${path} did not answer ${status} within ${ms} ms (last: ${last})`);
  }
  running() { return this.proc && this.proc.exitCode === null && this.proc.signalCode === null; }
  logText() { try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; } }
  logs() { return this.logText().split('\n').filter(Boolean).map((l) => JSON.parse(l)); }
  stderr() { try { return readFileSync(this.errPath, 'utf8'); } catch { return ''; } }
  sanitizerReport() { return SANITIZER.test(this.stderr()) ? this.stderr() : ''; }
  async stop(signal = 'SIGTERM') {
    if (this.running()) this.proc.kill(signal);
    return this.exited;
  }
}

// nginx in front of several backends: our own small configuration (tests/abuse/nginx.conf.in).
// setUpstreams() + SIGHUP plays the part of an ingress controller following the endpoints.
export class Nginx {
  constructor(dir, upstreams) { this.dir = join(dir, 'nginx'); this.upstreams = upstreams; }
  render() {
    const servers = this.upstreams.map((p) => `server 127.0.0.1:${p} max_fails=0;`).join('\n    ');
    const conf = readFileSync(join(ROOT, 'tests/abuse/nginx.conf.in'), 'utf8')
      .replaceAll('@PREFIX@', this.dir).replaceAll('@PORT@', String(this.port)).replaceAll('@SERVERS@', servers);
    writeFileSync(this.conf, conf);
  }
  async start() {
    this.port = await freePort();
    execFileSync('mkdir', ['-p', this.dir]);
    this.conf = join(this.dir, 'nginx.conf');
    this.render();
    execFileSync('nginx', ['-p', `${this.dir}/`, '-c', this.conf, '-e', join(this.dir, 'error.log')]);
    this.url = `http://127.0.0.1:${this.port}`;
    for (let i = 0; i < 100; i++) {
      try { if ((await request(this.url, '/health/live', { timeout: 500 })).status === 200) return this; } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error('nginx did not start');
  }
  pid() { return Number(readFileSync(join(this.dir, 'nginx.pid'), 'utf8').trim()); }
  // New upstream list; old workers finish what they have, new ones use the new list.
  async setUpstreams(ports) {
    this.upstreams = ports;
    this.render();
    execFileSync('nginx', ['-t', '-q', '-p', `${this.dir}/`, '-c', this.conf, '-e', join(this.dir, 'error.log')]);
    process.kill(this.pid(), 'SIGHUP');
    await sleep(300);
  }
  stop() {
    if (!existsSync(join(this.dir, 'nginx.pid'))) return;
    try { process.kill(this.pid(), 'SIGQUIT'); } catch { /* gone */ }
  }
}

// One HTTP request on a fresh or kept-alive connection; never throws for an HTTP status.
// Returns {status, headers, body, json, ms} or throws on a network error or a timeout.
export function request(base, path, { method = 'GET', body, headers = {}, timeout = 10000, agent } = {}) {
  const url = new URL(base + path);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const hdrs = { ...headers };
  if (data !== undefined) {
    hdrs['content-type'] ??= 'application/json';
    hdrs['content-length'] = Buffer.byteLength(data);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method,
      headers: hdrs, agent: agent ?? false, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, body: text, json, ms: performance.now() - t0 });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeout} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// Raw bytes on a new connection. Resolves with everything the server sent, how the
// connection ended ("eof", "reset", "timeout") and the parsed responses.
export function raw(port, data, { timeout = 3000, halfClose = false, pieces } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sock = connect({ host: '127.0.0.1', port });
    const chunks = [];
    let done = false;
    const finish = (end) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const buf = Buffer.concat(chunks);
      resolve({ end, ms: performance.now() - t0, raw: buf, responses: parseResponses(buf) });
    };
    const timer = setTimeout(() => finish('timeout'), timeout);
    sock.on('data', (c) => chunks.push(c));
    sock.on('end', () => finish('eof'));
    sock.on('error', (e) => finish(e.code === 'ECONNRESET' || e.code === 'EPIPE' ? 'reset' : e.code || 'error'));
    sock.on('connect', async () => {
      for (const p of pieces || [data]) {
        if (done) return;
        sock.write(p);
        if (pieces) await sleep(20);
      }
      if (halfClose) sock.end();
    });
  });
}

// HTTP/1.1 responses in a byte stream: status, lower-case headers, body (Content-Length only).
export function parseResponses(buf) {
  const out = [];
  let p = 0;
  while (p < buf.length) {
    const end = buf.indexOf('\r\n\r\n', p);
    if (end < 0 || buf.toString('latin1', p, p + 5) !== 'HTTP/') break;
    const lines = buf.toString('latin1', p, end).split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      const k = l.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] === undefined ? l.slice(i + 1).trim() : `${headers[k]}, ${l.slice(i + 1).trim()}`;
    }
    const len = Number(headers['content-length'] ?? 0);
    let bodyStart = end + 4;
    // A HEAD answer announces a length without a body; so does MHD's doubled error header.
    if (len > 0 && buf.toString('latin1', bodyStart, bodyStart + 5) === 'HTTP/' &&
        buf.toString('latin1', bodyStart + len, bodyStart + len + 5) !== 'HTTP/') {
      out.push({ status, headers, body: '' });
      p = bodyStart;
      continue;
    }
    out.push({ status, headers, body: buf.toString('utf8', bodyStart, bodyStart + len) });
    p = bodyStart + len;
  }
  return out;
}

// Open a plain TCP connection and keep it; resolves once connected (or failed).
export function hold(port) {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const st = { sock, closedAt: 0, error: null, data: [] };
    sock.on('connect', () => resolve(st));
    sock.on('data', (c) => st.data.push(c));
    sock.on('close', () => { st.closedAt = performance.now(); resolve(st); });
    sock.on('error', (e) => { st.error = e.code; });
  });
}

// A tiny test reporter: check(name, ok, detail) records and prints; failures make exit 1.
export class Report {
  constructor(title) { this.title = title; this.results = []; this.t0 = performance.now(); }
  check(name, ok, detail = '') {
    this.results.push({ name, ok: !!ok, detail });
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `  (${detail})` : ''}`);
    return !!ok;
  }
  section(name) { console.log(`\n== ${name}`); }
  finish() {
    const failed = this.results.filter((r) => !r.ok);
    const secs = ((performance.now() - this.t0) / 1000).toFixed(1);
    console.log(`\n${this.title}: ${this.results.length - failed.length}/${this.results.length} checks passed in ${secs}s`);
    for (const f of failed) console.log(`  FAIL ${f.name}${f.detail ? `: ${f.detail}` : ''}`);
    return failed.length === 0;
  }
}
