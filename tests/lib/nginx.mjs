// nginx in front of several backends, from a small configuration of the tests' own
// (tests/abuse/nginx.conf.in), started and stopped by its pid; setUpstreams() + SIGHUP plays the
// part of an ingress controller following the endpoints. (tests/lib/frontend.mjs runs the real
// template in front of one backend.)
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, sleep } from './stack.mjs';
import { freePort } from './ports.mjs';
import { request } from './http.mjs';

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
