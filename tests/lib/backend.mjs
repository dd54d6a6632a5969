// A backend process (the sanitizer build unless BACKEND_BIN or bin says otherwise) on a free
// loopback port, pointed at a Stack. Its stdout (JSON logs) and stderr (sanitizer reports) go
// to files in the stack's directory.
import { spawn } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sleep } from './stack.mjs';
import { freePort } from './ports.mjs';
import { request } from './http.mjs';

export const BACKEND = process.env.BACKEND_BIN || join(ROOT, 'backend/build/asan/backend');
const SANITIZER = /Sanitizer|runtime error/;

export class Backend {
  constructor(stack, env = {}, { bin, name } = {}) {
    this.deps = stack;
    this.extraEnv = env;
    this.bin = bin || BACKEND;
    this.name = name || 'it'; // POD_NAME it-PORT, logs it-PORT.log
  }
  // port: a given one (a restart behind a proxy: { port: b.port }), else a free one.
  async start({ port, waitReady = true } = {}) {
    this.port = port || await freePort();
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
  running() { return Boolean(this.proc) && this.proc.exitCode === null && this.proc.signalCode === null; }
  logText() { try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; } }
  logs() { return this.logText().split('\n').filter(Boolean).map((l) => JSON.parse(l)); }
  stderr() { try { return readFileSync(this.errPath, 'utf8'); } catch { return ''; } }
  sanitizerReport() { const err = this.stderr(); return SANITIZER.test(err) ? err : ''; }
  // Send signal (when still running) and return the exit {code, signal}, judging nothing.
  async kill(signal = 'SIGTERM') {
    if (this.running()) this.proc.kill(signal);
    return this.exited;
  }
  // kill(), then fail on a sanitizer report: the usual end of a backend in a test.
  async stop(signal = 'SIGTERM') {
    const exit = await this.kill(signal);
    const report = this.sanitizerReport();
    if (report) throw new Error(`sanitizer report:\n${report}`);
    return exit;
  }
}
