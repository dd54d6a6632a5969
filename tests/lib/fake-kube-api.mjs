// A fake Kubernetes API server for tests: HTTPS on 127.0.0.1 with its own CA, a ServiceAccount
// directory (token, ca.crt, namespace) to point KUBE_SA_DIR at, and the real response shapes of
// the four reads autoscaler-view makes. No cluster needed; usable from any node:test file.
//
//   import { startFakeKube } from '../lib/fake-kube-api.mjs';
//   const kube = await startFakeKube({ dir });          // dir: a temporary directory of the test
//   kube.env()        // {KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT, KUBE_SA_DIR}
//   kube.setState({ replicas: 6, desired: 6, utilization: 540, podCpu: { <pod>: 480 } })
//   kube.scaleUp(6)   // the scenario: 2 -> 6 replicas, SuccessfulRescale event, lastScaleTime now
//   kube.respond('metrics', { status: 404 })   // 'hpa' | 'pods' | 'metrics' | 'events'
//   kube.respond('hpa', { delayMs: 5000 })     // answer late; respond(r, null) goes back to normal
//   kube.rotateToken()  // a new token in saDir/token; the old one gets 401 from now on
//   kube.rotateToken({ inPlace: true })  // the same, invisible to stat(): only a 401 tells
//   kube.revokeToken()  // the server accepts only a new token that is not written anywhere yet
//   kube.calls()        // { hpa, pods, metrics, events, unauthorized, total } since start/reset
//   kube.resetCalls(); kube.lastQuery.pods  // the query string of the last pods read
//   await kube.down(); await kube.up()      // close the listener (and open connections), reopen
//   kube.otherCaSaDir() // a ServiceAccount dir whose ca.crt is another CA (bad TLS)
//   await kube.stop()
//
// Shapes (field names and nesting as the API server serialises them):
//   HorizontalPodAutoscaler: k8s.io/api autoscaling/v2/types.go (HorizontalPodAutoscalerSpec,
//     MetricSpec, HPAScalingRules, HorizontalPodAutoscalerStatus, MetricStatus,
//     HorizontalPodAutoscalerCondition); condition reasons/messages as the HPA controller writes
//     them (pkg/controller/podautoscaler/horizontal.go).
//   PodList / Pod: k8s.io/api core/v1/types.go (PodSpec, PodStatus, PodCondition, ContainerStatus).
//   EventList / Event: k8s.io/api core/v1/types.go (Event, ObjectReference, EventSource).
//   PodMetricsList: k8s.io/metrics pkg/apis/metrics/v1beta1/types.go (PodMetrics: timestamp,
//     window, containers[].usage as resource.Quantity strings, cpu in nanocores "…n").
//   Errors: apimachinery metav1.Status (kind Status, status Failure, reason, code).
import { createServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, renameSync, statSync, openSync, writeSync, closeSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const RESOURCES = ['hpa', 'pods', 'metrics', 'events'];

function openssl(cwd, ...args) {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

// A CA and a server certificate for 127.0.0.1 signed by it, in dir.
function makeCa(dir, cn) {
  mkdirSync(dir, { recursive: true });
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '1', '-subj', `/CN=${cn}`, '-keyout', 'ca.key', '-out', 'ca.crt');
  return dir;
}

function makeServerCert(caDir) {
  writeFileSync(join(caDir, 'ext.cnf'),
    'subjectAltName=IP:127.0.0.1,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n');
  openssl(caDir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-subj', '/CN=kube-apiserver', '-keyout', 'server.key', '-out', 'server.csr');
  openssl(caDir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key',
    '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'server.crt');
  return { key: readFileSync(join(caDir, 'server.key')), cert: readFileSync(join(caDir, 'server.crt')) };
}

const newToken = () => `eyJhbGciOiJSUzI1NiJ9.${randomBytes(24).toString('base64url')}.${randomBytes(16).toString('base64url')}`;

// Write a file the way the kubelet updates projected volumes: a new file renamed over the old.
// Its times are whole seconds, so that rotateToken({ inPlace }) can put them back exactly.
function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  const sec = Math.floor(Date.now() / 1000);
  utimesSync(`${path}.tmp`, sec, sec);
  renameSync(`${path}.tmp`, path);
}

const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const POD_HASH = '5d9c7f8b6d';
const podName = (i) => `backend-${POD_HASH}-${(i * 7919 + 12345).toString(36).padStart(5, 'x').slice(-5)}`;

function status(code, reason, message) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export async function startFakeKube({ dir, namespace = 'webapp', hpaName = 'backend-hpa',
  serviceAccount = 'autoscaler-view' } = {}) {
  if (!dir) throw new Error('startFakeKube: dir is required');
  const caDir = makeCa(join(dir, 'kube-ca'), 'fake-kube-ca');
  const tls = makeServerCert(caDir);
  const saDir = join(dir, 'serviceaccount');
  mkdirSync(saDir, { recursive: true });
  let token = newToken();
  writeFileSync(join(saDir, 'ca.crt'), readFileSync(join(caDir, 'ca.crt')));
  writeFileSync(join(saDir, 'namespace'), namespace);
  writeAtomic(join(saDir, 'token'), token);

  const t0 = Date.now();
  const state = {
    minReplicas: 2, maxReplicas: 10, targetUtilization: 200, replicas: 2, desired: 2,
    utilization: 40, cpuRequest: '250m', lastScaleTime: null, pendingPods: 0, podCpu: {},
    events: [], nodeName: 'webapp-cluster-worker', behavior: {
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] },
      scaleDown: { stabilizationWindowSeconds: 60, selectPolicy: 'Max',
        policies: [{ type: 'Percent', value: 50, periodSeconds: 15 }] },
    },
  };
  const overrides = {}; // resource -> { status, delayMs, body }
  const counts = Object.fromEntries([...RESOURCES, 'unauthorized', 'total'].map((k) => [k, 0]));
  const lastQuery = {};
  const sockets = new Set();
  let rv = 1000;

  const hpaObject = () => {
    const s = state;
    const at = s.lastScaleTime ?? iso(t0 - 600000);
    // The controller reports SucceededRescale until its next sync (15 s) finds nothing to do.
    const scaling = s.desired !== s.replicas || (s.lastScaleTime && Date.now() - Date.parse(s.lastScaleTime) < 15000);
    return {
      kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2',
      metadata: { name: hpaName, namespace, uid: '3b0e4f2a-6c1d-4e55-9a51-2f1e0c7d9a10',
        resourceVersion: String(++rv), creationTimestamp: iso(t0 - 3600000),
        labels: { 'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/part-of': 'webapp' } },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'backend', apiVersion: 'apps/v1' },
        minReplicas: s.minReplicas, maxReplicas: s.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: s.targetUtilization } } }],
        behavior: s.behavior,
      },
      status: {
        observedGeneration: 1,
        ...(s.lastScaleTime ? { lastScaleTime: s.lastScaleTime } : {}),
        currentReplicas: s.replicas, desiredReplicas: s.desired,
        currentMetrics: s.utilization == null ? null : [{ type: 'Resource', resource: { name: 'cpu',
          current: { averageValue: `${Math.round((s.utilization * parseInt(s.cpuRequest, 10)) / 100)}m`, averageUtilization: s.utilization } } }],
        conditions: [
          scaling
            ? { type: 'AbleToScale', status: 'True', lastTransitionTime: at, reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${s.desired}` }
            : { type: 'AbleToScale', status: 'True', lastTransitionTime: at, reason: 'ReadyForNewScale', message: 'recommended size matches current size' },
          { type: 'ScalingActive', status: 'True', lastTransitionTime: iso(t0 - 3500000), reason: 'ValidMetricFound',
            message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)' },
          s.desired >= s.maxReplicas
            ? { type: 'ScalingLimited', status: 'True', lastTransitionTime: at, reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' }
            : { type: 'ScalingLimited', status: 'False', lastTransitionTime: iso(t0 - 3500000), reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
        ],
      },
    };
  };

  const podObjects = () => {
    const n = state.replicas + state.pendingPods;
    const items = [];
    for (let i = 0; i < n; i++) {
      const pending = i >= state.replicas;
      const name = podName(i);
      const created = iso(t0 - (n - i) * 60000);
      items.push({
        metadata: { name, generateName: `backend-${POD_HASH}-`, namespace, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
          resourceVersion: String(++rv), creationTimestamp: created,
          labels: { 'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/part-of': 'webapp', 'pod-template-hash': POD_HASH },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `backend-${POD_HASH}`, uid: 'a1b2c3d4-0000-4000-8000-000000000001', controller: true, blockOwnerDeletion: true }] },
        spec: {
          containers: [{ name: 'backend', image: 'localhost/webapp-backend:dev', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            resources: { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: state.cpuRequest, memory: '64Mi' } },
            imagePullPolicy: 'IfNotPresent' }],
          restartPolicy: 'Always', automountServiceAccountToken: false, nodeName: pending ? undefined : state.nodeName,
          serviceAccountName: 'default', enableServiceLinks: false,
        },
        status: pending
          ? { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: created,
            reason: 'Unschedulable', message: '0/1 nodes are available: 1 Insufficient cpu.' }], qosClass: 'Burstable' }
          : {
            phase: 'Running',
            conditions: [
              { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: created },
              { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: created },
              { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: created },
              { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: created },
            ],
            hostIP: '172.18.0.2', podIP: `10.244.0.${10 + i}`, podIPs: [{ ip: `10.244.0.${10 + i}` }], startTime: created,
            containerStatuses: [{ name: 'backend', state: { running: { startedAt: created } }, lastState: {}, ready: true,
              restartCount: i === 0 ? 1 : 0, image: 'localhost/webapp-backend:dev', imageID: 'sha256:0123', containerID: `containerd://${i}`, started: true }],
            qosClass: 'Burstable',
          },
      });
    }
    return { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(++rv) }, items };
  };

  const metricsObjects = () => {
    const items = [];
    for (let i = 0; i < state.replicas; i++) {
      const name = podName(i);
      const milli = state.podCpu[name] ?? Math.round((state.utilization * parseInt(state.cpuRequest, 10)) / 100);
      items.push({ metadata: { name, namespace, creationTimestamp: iso(Date.now()),
        labels: { 'app.kubernetes.io/name': 'backend', 'app.kubernetes.io/part-of': 'webapp', 'pod-template-hash': POD_HASH } },
      timestamp: iso(Date.now() - 5000), window: '15.037s',
      containers: [{ name: 'backend', usage: { cpu: `${milli > 0 ? milli * 1000000 - 4321 : 0}n`, memory: '5112Ki' } }] });
    }
    return { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items };
  };

  const eventObjects = () => ({
    kind: 'EventList', apiVersion: 'v1', metadata: { resourceVersion: String(++rv) },
    items: state.events.map((e, i) => ({
      metadata: { name: `${hpaName}.${(0x17a0000000 + i).toString(16)}`, namespace, uid: `e0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        resourceVersion: String(++rv), creationTimestamp: e.time },
      involvedObject: { kind: 'HorizontalPodAutoscaler', namespace, name: hpaName, uid: '3b0e4f2a-6c1d-4e55-9a51-2f1e0c7d9a10',
        apiVersion: 'autoscaling/v2', resourceVersion: '1001' },
      reason: e.reason, message: e.message, source: { component: 'horizontal-pod-autoscaler' },
      firstTimestamp: e.time, lastTimestamp: e.time, count: e.count ?? 1, type: e.type ?? 'Normal',
      eventTime: null, reportingComponent: 'horizontal-pod-autoscaler', reportingInstance: '',
    })),
  });

  const routes = [
    { resource: 'hpa', re: new RegExp(`^/apis/autoscaling/v2/namespaces/${namespace}/horizontalpodautoscalers/([^/]+)$`),
      verb: 'get', what: 'horizontalpodautoscalers', group: 'autoscaling',
      body: (m) => (m[1] === hpaName ? [200, hpaObject()] : [404, status(404, 'NotFound', `horizontalpodautoscalers.autoscaling "${m[1]}" not found`)]) },
    { resource: 'pods', re: new RegExp(`^/api/v1/namespaces/${namespace}/pods$`), verb: 'list', what: 'pods', group: '',
      body: () => [200, podObjects()] },
    { resource: 'metrics', re: new RegExp(`^/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods$`), verb: 'list', what: 'pods', group: 'metrics.k8s.io',
      body: () => [200, metricsObjects()] },
    { resource: 'events', re: new RegExp(`^/api/v1/namespaces/${namespace}/events$`), verb: 'list', what: 'events', group: '',
      body: () => [200, eventObjects()] },
  ];

  const send = (res, code, obj) => {
    const text = JSON.stringify(obj);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const url = new URL(req.url, 'https://127.0.0.1');
    counts.total++;
    if (req.method !== 'GET') return send(res, 405, status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'));
    if (req.headers.authorization !== `Bearer ${token}`) {
      counts.unauthorized++;
      return send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    for (const r of routes) {
      const m = url.pathname.match(r.re);
      if (!m) continue;
      counts[r.resource]++;
      lastQuery[r.resource] = url.search;
      const o = overrides[r.resource];
      const answer = () => {
        if (res.destroyed) return;
        if (o?.status === 403) {
          return send(res, 403, status(403, 'Forbidden', `${r.what}${r.group ? `.${r.group}` : ''} is forbidden: User "system:serviceaccount:${namespace}:${serviceAccount}" cannot ${r.verb} resource "${r.what}" in API group "${r.group}" in the namespace "${namespace}"`));
        }
        if (o?.status === 404) return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
        if (o?.status) return send(res, o.status, o.body ?? status(o.status, 'InternalError', `fake failure ${o.status}`));
        if (o?.body !== undefined) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end(typeof o.body === 'string' ? o.body : JSON.stringify(o.body));
        }
        const [code, obj] = r.body(m);
        return send(res, code, obj);
      };
      if (o?.delayMs) setTimeout(answer, o.delayMs).unref();
      else answer();
      return undefined;
    }
    return send(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  server.on('tlsClientError', () => {}); // a client refusing our certificate is a test case

  const listen = (port) => new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(server.address().port); });
  });
  const port = await listen(0);
  let listening = true;

  const api = {
    host: '127.0.0.1', port, url: `https://127.0.0.1:${port}`, saDir, caPath: join(saDir, 'ca.crt'), namespace, hpaName,
    lastQuery,
    get token() { return token; },
    env: (sa = saDir) => ({ KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(port), KUBE_SA_DIR: sa }),
    podName,
    setState(patch) { Object.assign(state, patch); },
    state: () => ({ ...state }),
    // The demo's scale-up: load drives CPU to 270% of the request, the HPA asks for `to` replicas.
    scaleUp(to = 6, { utilization = 540 } = {}) {
      const now = iso(Date.now());
      Object.assign(state, { desired: to, replicas: to, utilization, lastScaleTime: now });
      state.events.push({ time: now, reason: 'SuccessfulRescale', type: 'Normal',
        message: `New size: ${to}; reason: cpu resource utilization (percentage of request) above target` });
    },
    respond(resource, how) {
      if (!RESOURCES.includes(resource)) throw new Error(`respond: unknown resource ${resource}`);
      if (how) overrides[resource] = how; else delete overrides[resource];
    },
    // inPlace: same inode, same size, mtime put back: a change no stat() can see, so only a
    // 401 tells the client to read the file again.
    rotateToken({ inPlace = false } = {}) {
      token = newToken();
      const path = join(saDir, 'token');
      if (!inPlace) {
        writeAtomic(path, token);
        return token;
      }
      const st = statSync(path);
      const fd = openSync(path, 'r+');
      writeSync(fd, token, 0);
      closeSync(fd);
      utimesSync(path, Math.round(st.atimeMs / 1000), Math.round(st.mtimeMs / 1000));
      return token;
    },
    revokeToken() {
      token = newToken();
      return token;
    },
    calls: () => ({ ...counts }),
    resetCalls() { for (const k of Object.keys(counts)) counts[k] = 0; },
    otherCaSaDir() {
      const other = makeCa(join(dir, 'other-ca'), 'some-other-ca');
      const sa = join(dir, 'serviceaccount-other-ca');
      mkdirSync(sa, { recursive: true });
      writeFileSync(join(sa, 'ca.crt'), readFileSync(join(other, 'ca.crt')));
      writeFileSync(join(sa, 'namespace'), namespace);
      writeFileSync(join(sa, 'token'), token);
      return sa;
    },
    async down() {
      if (!listening) return;
      listening = false;
      const closed = new Promise((resolve) => server.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async up() {
      if (listening) return;
      await listen(port);
      listening = true;
    },
    async stop() { await api.down(); },
  };
  return api;
}
