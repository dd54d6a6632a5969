// The manifests are valid Kubernetes objects (OpenAPI schemas, unknown fields included),
// every file is listed by its kustomization and renders, files and labels follow the
// conventions, and the add-ons and the kind cluster carry the settings kind needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import {
  ROOT, K8S, FIXTURES, LABEL_KEYS, appObjects, loadObjects, addonObjects, readDocs, render, find,
  containersOf,
} from './lib/common.mjs';
import { objectId, parseDocs } from './lib/kustomize.mjs';

// --- schema validation ----------------------------------------------------------------

async function modelFor(o) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const mod = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const Model = mod[o.kind];
  if (!Model) throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  return Model;
}

// @kubernetes/client-node's generated models list every field of every type: walk the
// object along them and report the fields Kubernetes does not know (kubernetes-models
// accepts those silently; the API server would drop them, or reject them under strict
// field validation).
function unknownFields(o) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  const cls = `${version[0].toUpperCase()}${version.slice(1)}${o.kind}`;
  if (!k8s[cls]) throw new Error(`@kubernetes/client-node has no model ${cls} for ${group || 'core'}/${version}`);
  const bad = [];
  const walk = (value, type, where) => {
    if (value === null || value === undefined) return;
    let r;
    if ((r = /^Array<(.+)>$/.exec(type))) {
      if (!Array.isArray(value)) { bad.push(`${where}: expected a list`); return; }
      value.forEach((v, i) => walk(v, r[1], `${where}[${i}]`));
      return;
    }
    if ((r = /^\{ \[key: string\]: (.+); \}$/.exec(type))) {
      for (const [k, v] of Object.entries(value)) walk(v, r[1], `${where}.${k}`);
      return;
    }
    const model = k8s[type];
    if (!model || !model.attributeTypeMap) return; // string, number, boolean, Date, IntOrString, any, object
    if (typeof value !== 'object' || Array.isArray(value)) { bad.push(`${where}: expected an object`); return; }
    const attrs = new Map(model.attributeTypeMap.map((a) => [a.baseName, a.type]));
    for (const [k, v] of Object.entries(value)) {
      if (!attrs.has(k)) bad.push(`${where}.${k}: unknown field of ${type}`);
      else walk(v, attrs.get(k), `${where}.${k}`);
    }
  };
  walk(o, cls, objectId(o));
  return bad;
}

async function validateAll(objs) {
  const problems = [];
  for (const o of objs) {
    try {
      new (await modelFor(o))(o).validate();
    } catch (e) {
      problems.push(`${objectId(o)}: ${e.message}`);
    }
    problems.push(...unknownFields(o));
  }
  return problems;
}

test('every application object validates against the Kubernetes schemas, unknown fields included', async () => {
  const objs = [...appObjects(), ...loadObjects()];
  assert.ok(objs.length >= 20, `only ${objs.length} objects rendered`);
  assert.deepEqual(await validateAll(objs), []);
});

test('the schema checks catch what they claim to catch (wrong type, missing field, unknown field)', async () => {
  const dep = structuredClone(find(appObjects(), 'Deployment', 'backend'));
  dep.spec.template.spec.containers[0].resources.limit = { cpu: '1' }; // typo: limits
  dep.spec.template.spec.containers[0].ports[0].containerPort = '8080'; // string
  const problems = await validateAll([dep]);
  assert.ok(problems.some((p) => p.includes('resources.limit: unknown field')), problems.join('\n'));
  assert.ok(problems.some((p) => /containerPort must be (integer|number)/.test(p)), problems.join('\n'));
  const hpa = structuredClone(find(appObjects(), 'HorizontalPodAutoscaler', 'backend-hpa'));
  delete hpa.spec.maxReplicas;
  assert.ok((await validateAll([hpa])).some((p) => p.includes('maxReplicas')));
});

test('the add-on patches are valid objects and render on the upstream manifests', async () => {
  for (const name of ['contour', 'metrics-server']) {
    const patched = addonObjects(name);
    assert.deepEqual(await validateAll(patched), [], name);
  }
});

// --- kustomizations --------------------------------------------------------------------

function yamlFiles(dir) {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
}

test('each kustomization lists every file of its directory, and nothing twice', () => {
  const dirs = [['base', 'resources'], ['load', 'resources'], ['addons/contour', 'patches'],
    ['addons/metrics-server', 'patches']];
  for (const [d, field] of dirs) {
    const dir = path.join(K8S, d);
    const k = readDocs(path.join(dir, 'kustomization.yaml'))[0];
    const listed = (k[field] || []).map((x) => (typeof x === 'string' ? x : x.path)).filter(Boolean);
    const local = listed.filter((x) => !/^https?:/.test(x));
    assert.deepEqual([...local].sort(), yamlFiles(dir), `${d}/kustomization.yaml ${field}`);
    assert.equal(new Set(local).size, local.length, `${d}: listed twice`);
  }
  const top = readDocs(path.join(K8S, 'kustomization.yaml'))[0];
  assert.deepEqual(top.resources, ['base']);
  assert.deepEqual(yamlFiles(K8S), [], 'k8s/ holds only its kustomization.yaml at the top');
});

test('one resource per file, named after it, with the app.kubernetes.io labels', () => {
  for (const d of ['base', 'load']) {
    for (const f of yamlFiles(path.join(K8S, d))) {
      const docs = readDocs(path.join(K8S, d, f));
      assert.equal(docs.length, 1, `${d}/${f}: one resource per file`);
      const o = docs[0];
      const stem = f.replace(/\.yaml$/, '');
      const names = [o.metadata.name, `${o.metadata.name}-${o.kind.toLowerCase()}`];
      assert.ok(names.includes(stem), `${d}/${f} holds ${o.kind}/${o.metadata.name}: name it ${names.join(' or ')}.yaml`);
    }
  }
  const objs = [...appObjects(), ...loadObjects()];
  const metas = [];
  for (const o of objs) {
    metas.push([objectId(o), o.metadata]);
    if (o.spec && o.spec.template) metas.push([`${objectId(o)} pod template`, o.spec.template.metadata]);
    for (const v of (o.spec && o.spec.volumeClaimTemplates) || []) metas.push([`${objectId(o)} claim`, v.metadata]);
  }
  for (const [id, m] of metas) {
    for (const k of LABEL_KEYS) assert.ok(m.labels && m.labels[k], `${id}: label ${k} missing`);
    assert.equal(m.labels['app.kubernetes.io/part-of'], 'webapp', id);
  }
  for (const o of objs) {
    if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, 'webapp', `${objectId(o)} namespace`);
  }
});

test('k8s/ renders with the expected objects and the images pinned by kustomize', () => {
  const ids = appObjects().map(objectId).sort();
  for (const want of ['Namespace/webapp', 'ConfigMap/webapp/backend-config', 'Deployment/webapp/backend',
    'Service/webapp/backend-service', 'HorizontalPodAutoscaler/webapp/backend-hpa', 'PodDisruptionBudget/webapp/backend-pdb',
    'Deployment/webapp/frontend', 'Service/webapp/frontend-service', 'PodDisruptionBudget/webapp/frontend-pdb',
    'StatefulSet/webapp/postgres', 'Service/webapp/postgres-service', 'Deployment/webapp/redis',
    'Service/webapp/redis-service', 'Ingress/webapp/webapp-ingress', 'NetworkPolicy/webapp/default-deny']) {
    assert.ok(ids.includes(want), `${want} missing from the rendering`);
  }
  assert.ok(!ids.some((i) => i.startsWith('Secret/')), 'no Secret is committed: deploy.sh creates it');
});

// The offline renderer must agree with kustomize itself wherever kubectl exists.
function kubectlRender(dir) {
  const r = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${r.stderr}`);
  return parseDocs(r.stdout, `kubectl kustomize ${dir}`);
}

function byId(objs) {
  return Object.fromEntries(objs.map((o) => [objectId(o), o]));
}

function withLocalUpstream(name) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `k8s-addon-${name}-`));
  for (const f of fs.readdirSync(path.join(K8S, 'addons', name))) {
    fs.copyFileSync(path.join(K8S, 'addons', name, f), path.join(tmp, f));
  }
  fs.copyFileSync(path.join(FIXTURES, `${name}.yaml`), path.join(tmp, 'upstream.yaml'));
  const kf = path.join(tmp, 'kustomization.yaml');
  fs.writeFileSync(kf, fs.readFileSync(kf, 'utf8').replace(/- https:\/\/\S+/, '- upstream.yaml'));
  return tmp;
}

test('kubectl kustomize renders every kustomization exactly like the offline renderer', (t) => {
  const probe = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (probe.error) {
    t.skip('kubectl not found: the checks above used tests/k8s/lib/kustomize.mjs alone; install kubectl >= 1.27 to cross-check it');
    return;
  }
  const cases = [[K8S, appObjects()], [path.join(K8S, 'base'), render(path.join(K8S, 'base'))],
    [path.join(K8S, 'load'), loadObjects()]];
  const tmps = ['contour', 'metrics-server'].map((n) => [withLocalUpstream(n), addonObjects(n)]);
  try {
    for (const [dir, mine] of [...cases, ...tmps]) {
      assert.deepEqual(byId(kubectlRender(dir)), byId(mine), `rendering of ${dir}`);
    }
  } finally {
    for (const [d] of tmps) fs.rmSync(d, { recursive: true, force: true });
  }
});

// --- add-ons and the kind cluster -------------------------------------------------------

test('add-ons come from pinned releases', () => {
  for (const name of ['contour', 'metrics-server']) {
    const k = readDocs(path.join(K8S, 'addons', name, 'kustomization.yaml'))[0];
    const urls = k.resources.filter((r) => /^https:/.test(r));
    assert.equal(urls.length, 1, name);
    assert.match(urls[0], /\/v\d+\.\d+\.\d+\//, `${name}: ${urls[0]} is not pinned to a release`);
  }
});

test('metrics-server gets --kubelet-insecure-tls and loses the v0.8 appProtocol', () => {
  const objs = addonObjects('metrics-server');
  const dep = find(objs, 'Deployment', 'metrics-server');
  const args = dep.spec.template.spec.containers[0].args;
  assert.ok(args.includes('--kubelet-insecure-tls'), args.join(' '));
  assert.equal(args.filter((a) => a === '--kubelet-insecure-tls').length, 1);
  const svc = find(objs, 'Service', 'metrics-server');
  assert.equal(svc.spec.ports.length, 1);
  assert.equal(svc.spec.ports[0].appProtocol, undefined);
  assert.equal(svc.spec.ports[0].port, 443);
  // The fixture really has the field, so the patch is what removes it.
  assert.equal(readDocs(path.join(FIXTURES, 'metrics-server.yaml'))[0].spec.ports[0].appProtocol, 'https');
});

test('Envoy runs on the kind node that maps ports 80/443 to this machine', () => {
  const kind = readDocs(path.join(K8S, 'kind/cluster.yaml'))[0];
  assert.equal(kind.kind, 'Cluster');
  assert.equal(kind.apiVersion, 'kind.x-k8s.io/v1alpha4');
  assert.equal(kind.name, 'webapp-cluster');
  const nodeKeys = new Set(['role', 'image', 'labels', 'extraPortMappings', 'extraMounts', 'kubeadmConfigPatches']);
  for (const n of kind.nodes) {
    for (const k of Object.keys(n)) assert.ok(nodeKeys.has(k), `kind node field ${k}`);
    for (const m of n.extraPortMappings || []) {
      for (const k of Object.keys(m)) assert.ok(['containerPort', 'hostPort', 'listenAddress', 'protocol'].includes(k), k);
    }
  }
  const ingressNodes = kind.nodes.filter((n) => n.labels && n.labels['ingress-ready'] === 'true');
  assert.equal(ingressNodes.length, 1, 'exactly one node labelled ingress-ready=true');
  const node = ingressNodes[0];
  const mapped = Object.fromEntries(node.extraPortMappings.map((m) => [m.containerPort, m]));
  for (const p of [80, 443]) {
    assert.ok(mapped[p], `containerPort ${p} mapped`);
    assert.equal(mapped[p].hostPort, p);
    assert.equal(mapped[p].listenAddress, '127.0.0.1', 'the demo is not exposed beyond this machine');
  }
  assert.ok(kind.nodes.filter((n) => n.role === 'worker').length >= 1, 'workers for the pods to spread over');

  const envoy = find(addonObjects('contour'), 'DaemonSet', 'envoy');
  const spec = envoy.spec.template.spec;
  assert.equal(spec.nodeSelector['ingress-ready'], 'true');
  if (node.role === 'control-plane') {
    assert.ok((spec.tolerations || []).some((t) => t.key === 'node-role.kubernetes.io/control-plane' && t.effect === 'NoSchedule'),
      'Envoy must tolerate the control-plane taint to run on that node');
  }
  const hostPorts = spec.containers.flatMap((c) => c.ports || []).map((p) => p.hostPort).filter(Boolean);
  assert.deepEqual(hostPorts.sort(), [443, 80].sort(), 'Envoy listens on the host ports kind maps');
  assert.ok(containersOf(envoy).length >= 1);
});

test('the manifests and the Taskfile are yamllint-clean', () => {
  const r = spawnSync('yamllint', ['-s', '-c', path.join(ROOT, 'tests/k8s/yamllint.yaml'),
    path.join(ROOT, 'k8s'), path.join(ROOT, 'Taskfile.yaml'), path.join(ROOT, 'tests/k8s')], { encoding: 'utf8' });
  if (r.error) throw new Error('yamllint not found: apt-get install -y yamllint');
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('the scripts are shellcheck-clean', () => {
  const files = [
    ...fs.readdirSync(path.join(ROOT, 'scripts/k8s')).map((f) => `scripts/k8s/${f}`),
    ...fs.readdirSync(path.join(ROOT, 'tests/k8s/standins')).map((f) => `tests/k8s/standins/${f}`),
    'tests/k8s/run.sh',
  ];
  let out;
  try {
    out = execFileSync('shellcheck', ['-x', ...files], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('shellcheck not found: apt-get install -y shellcheck');
    throw new Error(`shellcheck:\n${e.stdout}${e.stderr}`);
  }
  assert.equal(out, '');
});
