// The commands the manifests give to third-party containers, run for real on this
// machine: Redis with the Deployment's arguments and readiness probe, and the load
// generator's script under busybox (the Job's image) against the real backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  appObjects, loadObjects, find, containersOf, freePort, startBackend, stopChild, httpGet,
} from './lib/common.mjs';

const app = appObjects();

function need(tool, pkg) {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${tool} not found: apt-get install -y ${pkg}`);
  return r.stdout.trim();
}

// Kubernetes expands $(VAR) in command and args from the container's environment.
function expand(list, env) {
  return list.map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => (v in env ? env[v] : m)));
}

test('Redis starts with the Deployment\'s arguments as a bounded cache, and its probe authenticates', async () => {
  need('redis-server', 'redis-server');
  need('redis-cli', 'redis-tools');
  const c = containersOf(find(app, 'Deployment', 'redis'))[0];
  const password = 'probe-test-password-123';
  const env = { REDIS_PASSWORD: password, REDISCLI_AUTH: password };
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-redis-'));
  // The Deployment's arguments, plus where this test runs it (the pod gets 6379 on its own IP).
  const child = spawn('redis-server', [...expand(c.args, env), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  const cli = (args, withAuth = true) => spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...(withAuth ? { REDISCLI_AUTH: password } : {}) }, timeout: 5000,
  });
  try {
    let up = false;
    for (let i = 0; i < 50 && !up; i++) {
      up = cli(['ping']).stdout.trim() === 'PONG';
      if (!up) {
        assert.equal(child.exitCode, null, `redis-server exited: ${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.ok(up, `redis-server did not answer: ${out}`);
    // The readiness probe exactly as written, pointed at this test's port.
    const probe = c.readinessProbe.exec.command.map((a) => (a === '6379' ? String(port) : a));
    const r = spawnSync(probe[0], probe.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH, REDISCLI_AUTH: password } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'PONG');
    assert.match(cli(['ping'], false).stdout, /NOAUTH/, 'without the password Redis refuses');
    const conf = (k) => cli(['config', 'get', k]).stdout.trim().split('\n')[1] ?? '';
    assert.equal(conf('maxmemory'), String(64 * 1024 * 1024));
    assert.equal(conf('maxmemory-policy'), 'volatile-lru');
    assert.equal(conf('appendonly'), 'no');
    assert.equal(conf('save'), '');
    const limit = c.resources.limits.memory;
    assert.ok(/Mi$/.test(limit) && Number(limit.slice(0, -2)) > 64, `memory limit ${limit} above maxmemory`);
  } finally {
    stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the load generator\'s script, under busybox, sends stress requests and stops by itself', async () => {
  const busybox = need('busybox', 'busybox');
  const job = find(loadObjects(), 'Job', 'load-generator');
  const c = containersOf(job)[0];
  assert.deepEqual(c.command, ['/bin/sh', '-c']);
  // The image's tools: busybox applets only.
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-busybox-'));
  for (const applet of ['sh', 'wget', 'date', 'sleep', 'timeout']) fs.symlinkSync(busybox, path.join(bin, applet));
  const b = await startBackend({ DB_HOST: '127.0.0.1', DB_PORT: String(await freePort()), REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(await freePort()), STRESS_SLOTS: '4', ACCESS_LOG: 'false', SHUTDOWN_DRAIN_SECONDS: '0' });
  try {
    const env = Object.fromEntries(c.env.map((e) => [e.name, e.value]));
    assert.equal(env.TARGET_URL, 'http://backend-service:8080');
    Object.assign(env, { TARGET_URL: b.base, CONCURRENCY: '3', STRESS_MS: '20', DURATION_SECONDS: '3' });
    const t0 = Date.now();
    const r = spawnSync(path.join(bin, 'sh'), ['-c', ...expand(c.args, env)], {
      encoding: 'utf8', env: { PATH: bin, ...env }, timeout: 20000,
    });
    const secs = (Date.now() - t0) / 1000;
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^load: 3 workers, GET http:\/\/127\.0\.0\.1:\d+\/api\/stress\?ms=20 for 3s$/m);
    const workers = [...r.stdout.matchAll(/^worker (\d+): ok=(\d+) failed=(\d+)$/gm)];
    assert.equal(workers.length, 3, r.stdout);
    for (const [, , ok, failed] of workers) {
      assert.ok(Number(ok) > 0, `a worker sent nothing: ${r.stdout}`);
      assert.equal(Number(failed), 0, r.stdout);
    }
    assert.match(r.stdout, /^load: done$/m);
    // The script counts whole seconds (date +%s): it runs DURATION_SECONDS minus less than one.
    assert.ok(secs >= 2 && secs < 10, `ran ${secs}s for DURATION_SECONDS=3`);
    // The backend counted them.
    const sent = workers.reduce((n, [, , ok]) => n + Number(ok), 0);
    const metrics = (await httpGet(`${b.base}/metrics`)).body_text;
    const served = [...metrics.matchAll(/^http_requests_total\{[^}]*route="\/api\/stress"[^}]*status="200"[^}]*\} (\d+)/gm)]
      .reduce((n, m) => n + Number(m[1]), 0);
    assert.equal(served, sent, 'every request the workers counted reached the backend');
    assert.ok(job.spec.activeDeadlineSeconds > Number(c.env.find((e) => e.name === 'DURATION_SECONDS').value),
      'the hard stop comes after the script\'s own end');
  } finally {
    stopChild(b.child);
    fs.rmSync(bin, { recursive: true, force: true });
  }
});
