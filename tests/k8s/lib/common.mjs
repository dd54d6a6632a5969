// Helpers shared by the tests/k8s/*.test.mjs files.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { render, readDocs } from './kustomize.mjs';
import { freePort } from '../../lib/ports.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const K8S = path.join(ROOT, 'k8s');
export const FIXTURES = path.join(ROOT, 'tests/k8s/fixtures');
export const LABEL_KEYS = ['app.kubernetes.io/name', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of'];

// The application as `kubectl apply -k k8s/` sees it, plus the load generator Job.
export function appObjects() {
  return render(K8S);
}
export function loadObjects() {
  return render(path.join(K8S, 'load'));
}

// Add-on directory rendered with the offline copy of its upstream manifest.
export function addonObjects(name) {
  return render(path.join(K8S, 'addons', name), { remote: () => path.join(FIXTURES, `${name}.yaml`) });
}

export function find(objs, kind, name) {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not found`);
  return o;
}

export const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job']);

export function podTemplate(o) {
  return o.spec && o.spec.template;
}

export function containersOf(o) {
  const t = podTemplate(o);
  if (!t) return [];
  return [...(t.spec.initContainers || []), ...(t.spec.containers || [])];
}

// selectorMatches(selector, labels): Kubernetes LabelSelector semantics.
export function selectorMatches(sel, labels = {}) {
  if (!sel) return false;
  for (const [k, v] of Object.entries(sel.matchLabels || {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions || []) {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In': if (!has || !e.values.includes(labels[e.key])) return false; break;
      case 'NotIn': if (has && e.values.includes(labels[e.key])) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`unknown operator ${e.operator}`);
    }
  }
  return true;
}

// The backend binary the tests read --help and --routes from (and start).
export function backendBin() {
  const bin = process.env.BACKEND_BIN || path.join(ROOT, 'backend/build/release/backend');
  if (!fs.existsSync(bin)) {
    throw new Error(`backend binary ${bin} not found: build it with 'make -C backend' (tests/k8s/run.sh does)`);
  }
  return bin;
}

// backendSettings(): Map name -> default ('' when none) from `backend --help`.
export function backendSettings() {
  const out = execFileSync(backendBin(), ['--help'], { encoding: 'utf8' });
  const m = new Map();
  for (const line of out.split('\n')) {
    const r = /^\s+([A-Z][A-Z0-9_]+)\s+(\S+)\s/.exec(line);
    if (r) m.set(r[1], r[2] === '-' ? '' : r[2]);
  }
  if (m.size < 10) throw new Error(`backend --help listed only ${m.size} variables:\n${out}`);
  return m;
}

// backendRoutes(): ["GET /health/live", ...] from `backend --routes`.
export function backendRoutes() {
  const out = execFileSync(backendBin(), ['--routes'], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter(Boolean);
}

// dockerfileFacts(file): numeric USER and EXPOSEd ports of the last stage.
export function dockerfileFacts(file) {
  const text = fs.readFileSync(file, 'utf8');
  let user = null;
  const expose = [];
  const env = {};
  for (const raw of text.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (/^FROM\s/i.test(line)) { user = null; expose.length = 0; }
    let r;
    if ((r = /^USER\s+(\S+)/i.exec(line))) user = r[1];
    if ((r = /^EXPOSE\s+(.+)/i.exec(line))) expose.push(...r[1].split(/\s+/).map((p) => Number(p.split('/')[0])));
    if ((r = /^ENV\s+(.+)/i.exec(line))) {
      for (const kv of r[1].matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[kv[1]] = kv[2];
    }
  }
  return { user, expose, env };
}

export { render, readDocs };

export { freePort };

export async function httpGet(url, ms = 3000) {
  const r = await fetch(url, { signal: AbortSignal.timeout(ms) });
  r.body_text = await r.text();
  return r;
}

// startBackend(env): the real backend on a free loopback port with the given settings
// (plus PATH); resolves once /health/live answers. Returns { base, child, exited, stderr() }.
export async function startBackend(env) {
  const port = await freePort();
  const child = spawn(backendBin(), [], {
    env: { PATH: process.env.PATH, ...env, SERVER_PORT: String(port), BIND_ADDRESS: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      await httpGet(`${base}/health/live`, 1000);
      return { base, child, exited, stderr: () => stderr };
    } catch {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error(`the backend did not answer on ${base} within 10 s (stderr: ${stderr})`);
}

export function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
