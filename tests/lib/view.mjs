// An autoscaler-view process (the sanitizer build unless VIEW_BIN says otherwise) on a free
// loopback port: in cluster mode against a fake API server (pass kube: the object of
// fake-kube-api.mjs) or in local mode (pass no kube, and LOCAL_PID_FILE / LOCAL_BACKEND_URL in
// env). dir holds its logs. Short polls by default. backend/openapi.yaml describes the backend,
// not the view, so its requests go through viewRequest (unchecked; the view's tests check its
// document field by field).
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sleep } from './stack.mjs';
import { freePort } from './ports.mjs';
import { request } from './http.mjs';
import { Backend } from './backend.mjs';

export const VIEW = process.env.VIEW_BIN || join(ROOT, 'backend/build/asan/autoscaler-view');

export const viewRequest = (base, path, opts = {}) => request(base, path, opts);

// A Backend in all but how it starts: logs, kill and stop (with the sanitizer check) are its.
export class View extends Backend {
  constructor({ dir, kube = null, env = {} }) {
    super({ dir }, env, { bin: VIEW, name: 'view' });
    this.dir = dir;
    this.kube = kube;
  }
  async start() {
    this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    this.logPath = join(this.dir, `view-${this.port}.log`);
    this.errPath = join(this.dir, `view-${this.port}.err`);
    const env = {
      PATH: process.env.PATH, SERVER_PORT: String(this.port), BIND_ADDRESS: '127.0.0.1',
      VIEW_POLL_MS: '300', VIEW_IDLE_SECONDS: '3', KUBE_TIMEOUT_MS: '1000', SHUTDOWN_DRAIN_SECONDS: '0',
      ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0:exitcode=86',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1:exitcode=87',
      ...(this.kube ? this.kube.env() : {}), ...this.extraEnv,
    };
    this.proc = spawn(this.bin, [], {
      env, stdio: ['ignore', openSync(this.logPath, 'a'), openSync(this.errPath, 'a')],
    });
    this.pid = this.proc.pid;
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, signal) => resolve({ code, signal })));
    await this.waitFor('/health/ready', 200, 30000);
    return this;
  }
  // The document, once pred(doc) holds (polls every 100 ms, fails after ms with the last one).
  async until(pred, ms = 10000) {
    const deadline = Date.now() + ms;
    let last;
    while (Date.now() < deadline) {
      const r = await viewRequest(this.url, '/api/autoscaler');
      last = r.json;
      if (r.status === 200 && pred(last)) return last;
      await sleep(100);
    }
    throw new Error(`condition not met within ${ms} ms; last document: ${JSON.stringify(last)}`);
  }
}
