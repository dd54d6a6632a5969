// nginx from the real template (frontend/nginx/render.sh) in front of a backend, in a
// directory of the caller's, on a port of the caller's; started and stopped by its pid.
// The integration and abuse tests use it to run the same cases direct and through nginx.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sleep, alive } from './stack.mjs';
import { freePort } from './ports.mjs';

export class Frontend {
  // dir must be traversable by nginx's worker user (nobody when run as root).
  // name: the subdirectory (several in one dir); env: more template variables (AUTOSCALER_URL).
  constructor(dir, backendUrl, { name = 'frontend', env = {} } = {}) {
    this.dir = join(dir, name);
    this.backendUrl = backendUrl;
    this.env = env;
  }
  async start(port) {
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    mkdirSync(this.dir, { recursive: true });
    this.conf = join(this.dir, 'nginx.conf');
    this.errorLog = join(this.dir, 'error.log');
    const conf = execFileSync(join(ROOT, 'frontend/nginx/render.sh'), [], {
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, BACKEND_URL: this.backendUrl, LISTEN_ADDRESS: '127.0.0.1',
        LISTEN_PORT: String(port), NGINX_ACCESS_LOG: join(this.dir, 'access.log'),
        NGINX_ERROR_LOG: this.errorLog, NGINX_WORKER_PROCESSES: '1', ...this.env,
      },
    });
    writeFileSync(this.conf, conf);
    execFileSync('nginx', ['-p', `${this.dir}/`, '-c', this.conf, '-e', this.errorLog]);
    this.pid = Number(readFileSync(join(this.dir, 'nginx.pid'), 'utf8').trim());
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(500) });
        if (res.status === 200) return this;
      } catch { /* not yet */ }
      await sleep(50);
    }
    throw new Error(`nginx did not answer on ${this.url}/healthz: ${readFileSync(this.errorLog, 'utf8')}`);
  }
  errors() { return existsSync(this.errorLog) ? readFileSync(this.errorLog, 'utf8') : ''; }
  // Fast shutdown (SIGTERM), waiting up to 5 s for the master to go.
  async stop() {
    if (!this.pid || !alive(this.pid)) return;
    process.kill(this.pid, 'SIGTERM');
    for (let i = 0; i < 100 && alive(this.pid); i++) await sleep(50);
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
