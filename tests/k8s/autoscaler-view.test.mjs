// autoscaler-view in the manifests: least privilege (RBAC, tokens), wiring to nginx and the
// API server, and the real binary started with the Deployment's settings against the fake API
// server of tests/lib/fake-kube-api.mjs. Offline: no cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, appObjects, loadObjects, find, podTemplate, containersOf, selectorMatches, WORKLOAD_KINDS,
  dockerfileFacts, freePort, httpGet, stopChild,
} from './lib/common.mjs';
import { objectId } from './lib/kustomize.mjs';
import { startFakeKube } from '../lib/fake-kube-api.mjs';

const app = appObjects();
const all = [...app, ...loadObjects()];
const workloads = all.filter((o) => WORKLOAD_KINDS.has(o.kind));
const VIEW_BIN = process.env.VIEW_BIN || path.join(ROOT, 'backend/build/release/autoscaler-view');

function viewSettings() {
  assert.ok(fs.existsSync(VIEW_BIN), `${VIEW_BIN} not found: build it with 'make -C backend' (tests/k8s/run.sh does)`);
  const out = execFileSync(VIEW_BIN, ['--help'], { encoding: 'utf8' });
  const m = new Map();
  for (const line of out.split('\n')) {
    const r = /^\s+([A-Z][A-Z0-9_]+)\s+(\S+)\s/.exec(line);
    if (r) m.set(r[1], r[2] === '-' ? '' : r[2]);
  }
  assert.ok(m.size >= 8, `autoscaler-view --help listed only ${m.size} variables`);
  return m;
}

const viewDeployment = () => find(app, 'Deployment', 'autoscaler-view');
const viewEnv = () => Object.fromEntries(containersOf(viewDeployment())[0].env.map((e) => [e.name, e.value]));

test('RBAC: one namespaced Role, read-only, exactly the HPA, pods, events and pod metrics', () => {
  const rbac = all.filter((o) => o.apiVersion?.startsWith('rbac.authorization.k8s.io/'));
  assert.deepEqual(rbac.map((o) => o.kind).sort(), ['Role', 'RoleBinding']);
  assert.ok(!all.some((o) => ['ClusterRole', 'ClusterRoleBinding'].includes(o.kind)), 'no cluster-wide rights');
  const role = find(app, 'Role', 'autoscaler-view');
  assert.equal(role.metadata.namespace, 'webapp');
  const granted = [];
  for (const r of role.rules) {
    assert.deepEqual([...r.verbs].sort(), ['get', 'list', 'watch'], 'read verbs only');
    assert.ok(!r.resourceNames && !r.nonResourceURLs);
    for (const g of r.apiGroups) for (const res of r.resources) granted.push(`${res}.${g || 'core'}`);
  }
  assert.ok(!JSON.stringify(role.rules).includes('*'), 'no wildcard');
  assert.deepEqual(granted.sort(), ['events.core', 'horizontalpodautoscalers.autoscaling', 'pods.core', 'pods.metrics.k8s.io']);
  const rb = find(app, 'RoleBinding', 'autoscaler-view');
  assert.equal(rb.metadata.namespace, 'webapp');
  assert.deepEqual(rb.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'autoscaler-view' });
  assert.deepEqual(rb.subjects, [{ kind: 'ServiceAccount', name: 'autoscaler-view', namespace: 'webapp' }]);
});

test('tokens: only the autoscaler-view pod mounts one; its ServiceAccount grants none by default', () => {
  const sas = all.filter((o) => o.kind === 'ServiceAccount');
  assert.deepEqual(sas.map((o) => o.metadata.name), ['autoscaler-view']);
  assert.equal(sas[0].automountServiceAccountToken, false, 'opt-in per pod, not per account');
  for (const w of workloads) {
    const spec = podTemplate(w).spec;
    const isView = w.metadata.name === 'autoscaler-view';
    assert.equal(spec.automountServiceAccountToken, isView, `${objectId(w)}: token ${isView ? 'needed' : 'refused'}`);
    assert.equal(spec.serviceAccountName, isView ? 'autoscaler-view' : undefined, `${objectId(w)}: serviceAccountName`);
    assert.ok(!JSON.stringify(spec.volumes || []).includes('serviceAccountToken'), `${objectId(w)}: no projected token by hand`);
  }
  assert.equal(viewDeployment().spec.replicas, 1, 'one reader shared by every browser');
});

test('the Deployment uses only settings `autoscaler-view --help` lists, and names the real HPA and backend pods', () => {
  const settings = viewSettings();
  const env = viewEnv();
  assert.deepEqual(Object.keys(env).filter((k) => !settings.has(k)), [], 'variables the program does not read');
  const c = containersOf(viewDeployment())[0];
  assert.deepEqual(c.command, ['/usr/local/bin/autoscaler-view']);
  assert.equal(c.image.split(':')[0], 'localhost/webapp-backend', 'shipped in the backend image');
  assert.equal(Number(env.SERVER_PORT || settings.get('SERVER_PORT')), c.ports[0].containerPort);
  assert.ok(find(app, 'HorizontalPodAutoscaler', env.HPA_NAME || settings.get('HPA_NAME')), 'HPA_NAME names the HPA');
  const sel = Object.fromEntries((env.POD_SELECTOR || settings.get('POD_SELECTOR')).split(',').map((kv) => kv.split('=')));
  const matching = workloads.filter((w) => selectorMatches({ matchLabels: sel }, podTemplate(w).metadata.labels));
  assert.deepEqual(matching.map((w) => w.metadata.name), ['backend'], 'POD_SELECTOR selects the backend pods only');
  const text = fs.readFileSync(path.join(ROOT, 'docker/backend.Dockerfile'), 'utf8');
  assert.match(text, /^COPY --from=build \/src\/backend\/build\/release\/autoscaler-view \/usr\/local\/bin\/autoscaler-view$/m);
  assert.match(text, /libcurl4\b/, 'the runtime stage has libcurl');
  const uid = String(podTemplate(viewDeployment()).spec.securityContext.runAsUser);
  assert.equal(dockerfileFacts(path.join(ROOT, 'docker/backend.Dockerfile')).user.split(':')[0], uid);
});

test('nginx reaches the view: AUTOSCALER_URL names its Service port, the template has the location', () => {
  const fe = containersOf(find(app, 'Deployment', 'frontend'))[0];
  const u = new URL(fe.env.find((e) => e.name === 'AUTOSCALER_URL').value);
  const svc = find(app, 'Service', u.hostname);
  assert.ok(svc.spec.ports.some((p) => p.port === Number(u.port)), `AUTOSCALER_URL ${u}: no such service port`);
  assert.ok(selectorMatches({ matchLabels: svc.spec.selector }, podTemplate(viewDeployment()).metadata.labels));
  const tmpl = fs.readFileSync(path.join(ROOT, 'frontend/nginx/nginx.conf.template'), 'utf8');
  assert.match(tmpl, /location = \/api\/autoscaler \{/);
});

test('deploy.sh narrows the API server egress to the cluster\'s own addresses', () => {
  const np = find(app, 'NetworkPolicy', 'autoscaler-view');
  const ports = np.spec.egress.flatMap((r) => r.ports.map((p) => `${p.port}/${p.protocol}`));
  assert.deepEqual([...new Set(ports)].sort(), ['443/TCP', '6443/TCP']);
  const script = fs.readFileSync(path.join(ROOT, 'scripts/k8s/deploy.sh'), 'utf8');
  assert.match(script, /endpointslices/, 'reads the kubernetes EndpointSlice');
  assert.match(script, /name: autoscaler-view/, 'patches the view\'s NetworkPolicy');
});

test('the real binary with the Deployment\'s settings: probes answer, and it reads the fake API', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-view-'));
  const kube = await startFakeKube({ dir });
  const port = await freePort();
  const c = containersOf(viewDeployment())[0];
  const child = spawn(VIEW_BIN, [], {
    env: { PATH: process.env.PATH, ...viewEnv(), ...kube.env(), SERVER_PORT: String(port), BIND_ADDRESS: '127.0.0.1', SHUTDOWN_DRAIN_SECONDS: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const base = `http://127.0.0.1:${port}`;
  try {
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      try { ok = (await httpGet(base + c.readinessProbe.httpGet.path, 1000)).status === 200; } catch { await new Promise((r) => setTimeout(r, 100)); }
    }
    assert.ok(ok, `readiness probe ${c.readinessProbe.httpGet.path} (stderr: ${stderr})`);
    assert.equal((await httpGet(base + c.livenessProbe.httpGet.path)).status, 200);
    let doc;
    for (let i = 0; i < 100; i++) {
      doc = JSON.parse((await httpGet(`${base}/api/autoscaler`)).body_text);
      if (doc.hpa.state === 'ok' && doc.pods.state === 'ok') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(doc.mode, 'cluster');
    assert.equal(doc.hpa.state, 'ok', JSON.stringify(doc.hpa));
    assert.equal(doc.poll_ms, Number(viewEnv().VIEW_POLL_MS));
  } finally {
    stopChild(child);
    await kube.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
