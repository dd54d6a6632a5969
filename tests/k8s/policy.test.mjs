// Policy checks that would catch real breakage of the deployed demo: wiring between
// objects, hardening, pinned images, the backend's real settings and routes, and
// NetworkPolicies that allow exactly the flows the application has.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ROOT, appObjects, loadObjects, find, podTemplate, containersOf, selectorMatches, WORKLOAD_KINDS,
  backendSettings, backendRoutes, dockerfileFacts, readDocs, startBackend, stopChild, freePort, httpGet,
} from './lib/common.mjs';
import { objectId } from './lib/kustomize.mjs';

const app = appObjects();
const load = loadObjects();
const all = [...app, ...load];
const workloads = all.filter((o) => WORKLOAD_KINDS.has(o.kind));
const OUR_IMAGES = new Set(['localhost/webapp-backend', 'localhost/webapp-frontend']);

function imageName(ref) {
  const noDigest = ref.split('@')[0];
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

// --- wiring -------------------------------------------------------------------------------

test('workload selectors match their own pod labels, Service selectors match pods and ports', () => {
  for (const w of workloads.filter((o) => o.kind !== 'Job')) {
    assert.ok(selectorMatches(w.spec.selector, podTemplate(w).metadata.labels), `${objectId(w)} selector`);
  }
  for (const svc of app.filter((o) => o.kind === 'Service')) {
    const backing = workloads.filter((w) => selectorMatches({ matchLabels: svc.spec.selector }, podTemplate(w).metadata.labels));
    assert.equal(backing.length, 1, `${objectId(svc)} selects ${backing.length} workloads`);
    const ports = containersOf(backing[0]).flatMap((c) => c.ports || []);
    for (const p of svc.spec.ports) {
      const hit = typeof p.targetPort === 'string'
        ? ports.find((cp) => cp.name === p.targetPort)
        : ports.find((cp) => cp.containerPort === (p.targetPort ?? p.port));
      assert.ok(hit, `${objectId(svc)} port ${p.name}: targetPort ${p.targetPort} is not a container port of ${objectId(backing[0])}`);
    }
  }
  const pg = find(app, 'StatefulSet', 'postgres');
  assert.equal(pg.spec.serviceName, 'postgres-service');
  assert.equal(find(app, 'Service', 'postgres-service').spec.clusterIP, 'None', 'headless');
});

test('the Ingress routes /, /api and /health unchanged to services and ports that exist', () => {
  const ing = find(app, 'Ingress', 'webapp-ingress');
  assert.equal(ing.spec.ingressClassName, 'contour');
  const annotations = Object.keys(ing.metadata.annotations || {});
  assert.ok(!annotations.some((a) => /rewrite|prefix-rewrite/i.test(a)), `no path rewriting: ${annotations}`);
  const rules = ing.spec.rules;
  assert.equal(rules.length, 1);
  assert.equal(rules[0].host, 'webapp.local');
  const routes = {};
  for (const p of rules[0].http.paths) {
    assert.equal(p.pathType, 'Prefix', p.path);
    const svc = find(app, 'Service', p.backend.service.name);
    const port = p.backend.service.port;
    assert.ok(svc.spec.ports.some((sp) => (port.name ? sp.name === port.name : sp.port === port.number)),
      `${p.path}: ${svc.metadata.name} has no port ${JSON.stringify(port)}`);
    routes[p.path] = svc.metadata.name;
  }
  assert.deepEqual(routes, { '/': 'frontend-service', '/api': 'backend-service', '/health': 'backend-service' });
});

test('the HPA scales the backend Deployment 2..10 on CPU at 200% of its request, which every container has', () => {
  const hpa = find(app, 'HorizontalPodAutoscaler', 'backend-hpa');
  assert.equal(hpa.apiVersion, 'autoscaling/v2');
  const ref = hpa.spec.scaleTargetRef;
  assert.deepEqual([ref.apiVersion, ref.kind, ref.name], ['apps/v1', 'Deployment', 'backend']);
  const dep = find(app, 'Deployment', 'backend');
  assert.equal([hpa.spec.minReplicas, hpa.spec.maxReplicas].join('..'), '2..10');
  assert.ok(dep.spec.replicas >= hpa.spec.minReplicas && dep.spec.replicas <= hpa.spec.maxReplicas);
  assert.deepEqual(hpa.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 200 } } }]);
  for (const c of containersOf(dep)) assert.ok(c.resources.requests.cpu, `${c.name}: no CPU request, the HPA would show <unknown>`);
  const { scaleUp, scaleDown } = hpa.spec.behavior;
  assert.ok(scaleUp.stabilizationWindowSeconds <= 30, 'scales up within a minute of load');
  assert.ok(scaleUp.policies.every((p) => p.periodSeconds <= 30));
  assert.ok(scaleDown.stabilizationWindowSeconds >= 30 && scaleDown.stabilizationWindowSeconds <= 120,
    'scales down a minute or two after the load stops');
  assert.equal(find(app, 'PodDisruptionBudget', 'backend-pdb').spec.maxUnavailable, 1);
});

test('PodDisruptionBudgets select the backend and the frontend pods', () => {
  for (const [pdb, dep] of [['backend-pdb', 'backend'], ['frontend-pdb', 'frontend']]) {
    const sel = find(app, 'PodDisruptionBudget', pdb).spec.selector;
    assert.ok(selectorMatches(sel, podTemplate(find(app, 'Deployment', dep)).metadata.labels), pdb);
  }
});

// --- hardening ----------------------------------------------------------------------------

test('every container has requests, limits, probes and the restricted security context', () => {
  for (const w of workloads) {
    const spec = podTemplate(w).spec;
    const id = objectId(w);
    assert.equal(spec.automountServiceAccountToken, false, `${id}: no API token in the pod`);
    assert.equal(spec.enableServiceLinks, false, `${id}: no injected service variables`);
    const psc = spec.securityContext || {};
    for (const c of containersOf(w)) {
      const where = `${id} container ${c.name}`;
      for (const kind of ['requests', 'limits']) {
        for (const r of ['cpu', 'memory']) assert.ok(c.resources && c.resources[kind] && c.resources[kind][r], `${where}: ${kind}.${r}`);
      }
      if (w.kind !== 'Job') { // a Job's container runs to completion: probes do not apply
        assert.ok(c.readinessProbe, `${where}: readinessProbe`);
        assert.ok(c.livenessProbe, `${where}: livenessProbe`);
        for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe].filter(Boolean)) {
          assert.ok((p.timeoutSeconds || 1) >= 2, `${where}: probe timeout at least 2 s`);
        }
      }
      const sc = c.securityContext || {};
      assert.equal(sc.runAsNonRoot ?? psc.runAsNonRoot, true, `${where}: runAsNonRoot`);
      assert.ok((sc.runAsUser ?? psc.runAsUser) > 0, `${where}: a numeric non-root user`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
      assert.deepEqual(sc.capabilities && sc.capabilities.drop, ['ALL'], `${where}: drop ALL`);
      assert.ok(!(sc.capabilities && sc.capabilities.add), `${where}: adds no capability`);
      assert.equal((sc.seccompProfile || psc.seccompProfile || {}).type, 'RuntimeDefault', `${where}: seccomp`);
      assert.ok(!sc.privileged, where);
    }
  }
  const ns = find(app, 'Namespace', 'webapp');
  assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
});

test('no :latest, no unpinned third-party image, our images kept on the node', () => {
  for (const w of workloads) {
    for (const c of containersOf(w)) {
      const where = `${objectId(w)} ${c.name}: ${c.image}`;
      assert.ok(!/:latest(@|$)/.test(c.image), `${where}: :latest`);
      const name = imageName(c.image);
      const tag = c.image.slice(name.length + 1).split('@')[0];
      if (OUR_IMAGES.has(name)) {
        assert.ok(tag && tag !== 'latest', where);
        // kind-loaded images exist on the nodes only: Always would try a registry and fail.
        assert.equal(c.imagePullPolicy, 'IfNotPresent', where);
      } else {
        assert.match(name, /^[a-z0-9.-]+\.[a-z]+(:\d+)?\//, `${where}: name the registry`);
        assert.ok(/@sha256:[0-9a-f]{64}$/.test(c.image) || /\d+\.\d+/.test(tag), `${where}: pin a version (x.y[.z]) or a digest`);
      }
    }
  }
});

test('the pod users and ports agree with the Dockerfiles', () => {
  for (const [dep, file] of [['backend', 'docker/backend.Dockerfile'], ['frontend', 'docker/frontend.Dockerfile']]) {
    const p = path.join(ROOT, file);
    assert.ok(fs.existsSync(p), `${file} missing`);
    const facts = dockerfileFacts(p);
    const w = find(app, 'Deployment', dep);
    const uid = String(podTemplate(w).spec.securityContext.runAsUser);
    assert.equal((facts.user || '').split(':')[0], uid, `${file} USER vs ${dep} runAsUser`);
    const ports = containersOf(w)[0].ports.map((x) => x.containerPort);
    assert.deepEqual(ports, facts.expose, `${file} EXPOSE vs ${dep} containerPort`);
  }
  const fe = containersOf(find(app, 'Deployment', 'frontend'))[0];
  const env = Object.fromEntries(fe.env.map((e) => [e.name, e.value]));
  const listen = env.LISTEN_PORT || dockerfileFacts(path.join(ROOT, 'docker/frontend.Dockerfile')).env.LISTEN_PORT;
  assert.equal(Number(listen), fe.ports[0].containerPort, 'nginx listens on the container port');
  const u = new URL(env.BACKEND_URL);
  const svc = find(app, 'Service', u.hostname);
  assert.ok(svc.spec.ports.some((p) => p.port === Number(u.port)), `BACKEND_URL ${env.BACKEND_URL}: no such service port`);
  const tmpl = fs.readFileSync(path.join(ROOT, 'frontend/nginx/nginx.conf.template'), 'utf8');
  for (const probe of [fe.livenessProbe, fe.readinessProbe]) {
    assert.ok(new RegExp(`location\\s+=\\s+${probe.httpGet.path}\\s*\\{`).test(tmpl), `nginx serves ${probe.httpGet.path}`);
  }
});

// --- the backend's own settings and routes ---------------------------------------------------

function backendEnv(dep, cm) {
  const c = containersOf(dep).find((x) => x.name === 'backend');
  const env = {};
  for (const src of c.envFrom || []) {
    assert.equal(src.configMapRef.name, cm.metadata.name);
    Object.assign(env, cm.data);
  }
  for (const e of c.env || []) env[e.name] = e.value ?? e.valueFrom;
  return { c, env };
}

test('the backend ConfigMap and environment use only variables `backend --help` lists', () => {
  const settings = backendSettings();
  const cm = find(app, 'ConfigMap', 'backend-config');
  const dep = find(app, 'Deployment', 'backend');
  const unknown = Object.keys(cm.data).filter((k) => !settings.has(k));
  assert.deepEqual(unknown, [], 'ConfigMap keys the backend does not read');
  const { c, env } = backendEnv(dep, cm);
  assert.deepEqual(Object.keys(env).filter((k) => !settings.has(k)), [], 'env the backend does not read');
  // The names and values people know from the reference design.
  assert.equal(cm.data.DB_HOST, 'postgres-service');
  assert.equal(cm.data.DB_PORT, '5432');
  assert.equal(cm.data.DB_NAME, 'webapp');
  assert.equal(cm.data.REDIS_HOST, 'redis-service');
  for (const [host, port] of [[cm.data.DB_HOST, cm.data.DB_PORT], [cm.data.REDIS_HOST, cm.data.REDIS_PORT]]) {
    const svc = find(app, 'Service', host);
    assert.ok(svc.spec.ports.some((p) => p.port === Number(port)), `${host}:${port}`);
  }
  assert.equal(Number(cm.data.SERVER_PORT || settings.get('SERVER_PORT')), c.ports[0].containerPort);
  assert.deepEqual(env.POD_NAME, { fieldRef: { fieldPath: 'metadata.name' } }, 'POD_NAME from the downward API');
  assert.ok(!('DB_PASSWORD' in env) && !('REDIS_PASSWORD' in env), 'passwords come from files, not variables');
  // Each *_FILE points into a mounted Secret item.
  const vols = Object.fromEntries(podTemplate(dep).spec.volumes.map((v) => [v.name, v]));
  for (const key of ['DB_PASSWORD_FILE', 'REDIS_PASSWORD_FILE']) {
    const file = env[key];
    const m = c.volumeMounts.find((vm) => file.startsWith(`${vm.mountPath}/`));
    assert.ok(m, `${key}=${file} is not under a volume mount`);
    const items = vols[m.name].secret.items.map((i) => i.path);
    assert.ok(items.includes(file.slice(m.mountPath.length + 1)), `${key}: ${file} is not an item of the Secret volume`);
  }
  // Graceful shutdown fits in the grace period.
  const drain = Number(cm.data.SHUTDOWN_DRAIN_SECONDS ?? settings.get('SHUTDOWN_DRAIN_SECONDS'));
  const timeout = Number(cm.data.SHUTDOWN_TIMEOUT_SECONDS ?? settings.get('SHUTDOWN_TIMEOUT_SECONDS'));
  assert.ok(podTemplate(dep).spec.terminationGracePeriodSeconds > drain + timeout,
    `terminationGracePeriodSeconds must exceed drain ${drain} + shutdown ${timeout}`);
  assert.equal(dep.spec.strategy.rollingUpdate.maxUnavailable, 0);
  assert.equal(podTemplate(dep).spec.topologySpreadConstraints[0].topologyKey, 'kubernetes.io/hostname');
});

test('every Secret key the manifests use is one deploy.sh creates', () => {
  const script = fs.readFileSync(path.join(ROOT, 'scripts/k8s/deploy.sh'), 'utf8');
  const created = [...script.matchAll(/^ {2}([a-z-]+): \$\(random_password\)$/gm)].map((m) => m[1]).sort();
  assert.deepEqual(created, ['db-password', 'redis-password']);
  const used = new Set();
  const walk = (n) => {
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (!n || typeof n !== 'object') return;
    if (n.secretKeyRef) { assert.equal(n.secretKeyRef.name, 'webapp-credentials'); used.add(n.secretKeyRef.key); }
    if (n.secret && n.secret.secretName) {
      assert.equal(n.secret.secretName, 'webapp-credentials');
      for (const i of n.secret.items || []) used.add(i.key);
    }
    Object.values(n).forEach(walk);
  };
  walk(all);
  assert.deepEqual([...used].sort(), created);
});

test('the probe paths and the ingress prefixes are routes of the backend (backend --routes)', () => {
  const routes = backendRoutes();
  const gets = new Set(routes.filter((r) => r.startsWith('GET ')).map((r) => r.slice(4)));
  const dep = find(app, 'Deployment', 'backend');
  const c = containersOf(dep)[0];
  for (const p of [c.startupProbe, c.livenessProbe, c.readinessProbe]) assert.ok(gets.has(p.httpGet.path), p.httpGet.path);
  assert.equal(c.livenessProbe.httpGet.path, '/health/live');
  assert.equal(c.readinessProbe.httpGet.path, '/health/ready');
  for (const prefix of ['/api', '/health']) {
    assert.ok([...gets].some((r) => r === prefix || r.startsWith(`${prefix}/`)), `no backend route under ${prefix}`);
  }
  const fe = find(app, 'Deployment', 'frontend');
  assert.ok(![...gets].includes(containersOf(fe)[0].livenessProbe.httpGet.path), 'nginx answers /healthz itself');
});

test('the real backend, configured by the ConfigMap, answers the probes and drains within the grace period', async () => {
  const cm = find(app, 'ConfigMap', 'backend-config');
  const dep = find(app, 'Deployment', 'backend');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-backend-'));
  fs.writeFileSync(path.join(tmp, 'db-password'), 'test-password\n');
  fs.writeFileSync(path.join(tmp, 'redis-password'), 'test-password\n');
  // The ConfigMap as the pod gets it, with the hosts, ports and file paths of this machine:
  // nothing listens on the database and Redis ports, so the server is live but not ready.
  const b = await startBackend({
    ...cm.data, DB_HOST: '127.0.0.1', DB_PORT: String(await freePort()), REDIS_HOST: '127.0.0.1',
    REDIS_PORT: String(await freePort()), DB_PASSWORD_FILE: path.join(tmp, 'db-password'),
    REDIS_PASSWORD_FILE: path.join(tmp, 'redis-password'), POD_NAME: 'backend-test-pod', ACCESS_LOG: 'false',
  });
  try {
    const c = containersOf(dep)[0];
    assert.equal((await httpGet(b.base + c.startupProbe.httpGet.path)).status, 200, 'startup probe');
    assert.equal((await httpGet(b.base + c.livenessProbe.httpGet.path)).status, 200, 'liveness probe');
    assert.equal((await httpGet(b.base + c.readinessProbe.httpGet.path)).status, 503, 'readiness without a database');
    const stress = await httpGet(`${b.base}/api/stress?ms=5`);
    assert.equal(stress.status, 200, 'stress needs no database');
    assert.equal(stress.headers.get('x-served-by'), 'backend-test-pod', 'POD_NAME names the pod in X-Served-By');
    // SIGTERM as the kubelet sends it: the server drains, then exits 0 within the grace period.
    const grace = podTemplate(dep).spec.terminationGracePeriodSeconds;
    const drain = Number(cm.data.SHUTDOWN_DRAIN_SECONDS);
    const t0 = Date.now();
    b.child.kill('SIGTERM');
    const timer = setTimeout(() => b.child.kill('SIGKILL'), grace * 1000);
    const { code } = await b.exited;
    clearTimeout(timer);
    const secs = (Date.now() - t0) / 1000;
    assert.equal(code, 0, `exit code after SIGTERM (stderr: ${b.stderr().slice(-500)})`);
    assert.ok(secs >= drain - 0.5, `drained ${secs}s, SHUTDOWN_DRAIN_SECONDS is ${drain}`);
    assert.ok(secs < grace, `took ${secs}s, more than terminationGracePeriodSeconds ${grace}`);
  } finally {
    stopChild(b.child);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

// --- NetworkPolicies ----------------------------------------------------------------------

// Endpoints of the cluster that talk to or are reached by the application's pods.
function endpoints() {
  const eps = [
    { id: 'envoy', ns: 'projectcontour', labels: { app: 'envoy' }, ports: [[8080, 'TCP', 'http']] },
    { id: 'contour', ns: 'projectcontour', labels: { app: 'contour' }, ports: [[8001, 'TCP', 'xds']] },
    { id: 'coredns', ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [[53, 'UDP', 'dns'], [53, 'TCP', 'dns-tcp']] },
    { id: 'other-pod', ns: 'default', labels: { app: 'other' }, ports: [[8080, 'TCP', 'http']] },
    { id: 'internet', external: '203.0.113.10', ports: [[443, 'TCP', ''], [53, 'UDP', '']] },
  ];
  for (const w of workloads) {
    eps.push({
      id: w.metadata.name,
      ns: w.metadata.namespace,
      labels: podTemplate(w).metadata.labels,
      ports: containersOf(w).flatMap((c) => (c.ports || []).map((p) => [p.containerPort, p.protocol || 'TCP', p.name || ''])),
    });
  }
  return eps;
}

const NS_LABELS = (ns) => ({ 'kubernetes.io/metadata.name': ns });

function cidrContains(cidr, ip) {
  const [base, bits] = cidr.split('/');
  const toInt = (a) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  const mask = Number(bits) === 0 ? 0 : (~0 << (32 - Number(bits))) >>> 0;
  return (toInt(base) & mask) === (toInt(ip) & mask);
}

function peerMatches(peer, policyNs, ep) {
  if (peer.ipBlock) {
    return Boolean(ep.external) && cidrContains(peer.ipBlock.cidr, ep.external)
      && !(peer.ipBlock.except || []).some((c) => cidrContains(c, ep.external));
  }
  if (ep.external) return false;
  const nsOk = peer.namespaceSelector ? selectorMatches(peer.namespaceSelector, NS_LABELS(ep.ns)) : ep.ns === policyNs;
  const podOk = peer.podSelector ? selectorMatches(peer.podSelector, ep.labels) : true;
  return nsOk && podOk;
}

function portMatches(rulePorts, dst, port, proto) {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((rp) => {
    if ((rp.protocol || 'TCP') !== proto) return false;
    if (rp.port === undefined) return true;
    if (typeof rp.port === 'string') return dst.ports.some(([n, p, name]) => name === rp.port && n === port && p === proto);
    return rp.endPort ? port >= rp.port && port <= rp.endPort : rp.port === port;
  });
}

// allowed(policies, src, dst, port, proto): NetworkPolicy semantics for the webapp namespace.
function allowed(policies, src, dst, port, proto) {
  const side = (ep, type, rulesKey, peersKey, other) => {
    if (ep.external || ep.ns !== 'webapp') return true; // other namespaces: not ours to restrict
    const selecting = policies.filter((p) => selectorMatches(p.spec.podSelector, ep.labels)
      && (p.spec.policyTypes || ['Ingress']).includes(type));
    if (selecting.length === 0) return true;
    return selecting.some((p) => (p.spec[rulesKey] || []).some((rule) => {
      const peers = rule[peersKey];
      const peerOk = !peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, p.metadata.namespace, other));
      return peerOk && portMatches(rule.ports, dst, port, proto);
    }));
  };
  return side(src, 'Egress', 'egress', 'to', dst) && side(dst, 'Ingress', 'ingress', 'from', src);
}

test('NetworkPolicies deny by default and allow exactly the flows the application needs', () => {
  const policies = app.filter((o) => o.kind === 'NetworkPolicy');
  const deny = policies.filter((p) => Object.keys(p.spec.podSelector).length === 0);
  assert.equal(deny.length, 1);
  assert.deepEqual(deny[0].spec.policyTypes.sort(), ['Egress', 'Ingress']);
  assert.ok(!deny[0].spec.ingress && !deny[0].spec.egress, 'the default policy allows nothing');

  const eps = endpoints();
  const extraPort = [9999, 'TCP'];
  const got = [];
  for (const src of eps) {
    for (const dst of eps) {
      if (src === dst) continue;
      if (src.ns !== 'webapp' && dst.ns !== 'webapp') continue; // neither end is ours
      if (src.external && dst.external) continue;
      for (const [port, proto] of [...dst.ports.map(([n, p]) => [n, p]), extraPort]) {
        if (allowed(policies, src, dst, port, proto)) got.push(`${src.id} -> ${dst.id}:${port}/${proto}`);
      }
    }
  }
  const dns = (id) => [`${id} -> coredns:53/UDP`, `${id} -> coredns:53/TCP`];
  const want = [
    'envoy -> frontend:8080/TCP', 'envoy -> backend:8080/TCP',
    'frontend -> backend:8080/TCP', 'load-generator -> backend:8080/TCP',
    'backend -> postgres:5432/TCP', 'backend -> redis:6379/TCP',
    ...dns('backend'), ...dns('frontend'), ...dns('load-generator'),
  ];
  assert.deepEqual([...new Set(got)].sort(), want.sort());
});

test('the NetworkPolicy evaluator itself tells allowed from denied', () => {
  const policies = app.filter((o) => o.kind === 'NetworkPolicy');
  const eps = Object.fromEntries(endpoints().map((e) => [e.id, e]));
  assert.ok(allowed(policies, eps.backend, eps.postgres, 5432, 'TCP'));
  assert.ok(!allowed(policies, eps.frontend, eps.postgres, 5432, 'TCP'));
  assert.ok(!allowed(policies, eps['other-pod'], eps.backend, 8080, 'TCP'));
  assert.ok(!allowed(policies, eps.backend, eps.internet, 443, 'TCP'));
  // Without the default deny and the backend's policy, anything could reach the backend.
  const loose = policies.filter((p) => !['default-deny', 'backend'].includes(p.metadata.name));
  assert.ok(allowed(loose, eps['other-pod'], eps.backend, 8080, 'TCP'));
  // The load generator's policy file is part of the base (it must exist before any load).
  assert.ok(readDocs(path.join(ROOT, 'k8s/base/load-generator-networkpolicy.yaml')).length === 1);
});
