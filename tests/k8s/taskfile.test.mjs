// The Taskfile and scripts/k8s, run for real against stand-in docker, kind, kubectl,
// curl and ss (tests/k8s/standins) that record every call: the exact sequence of
// `task setup` is asserted (images built before they are loaded, the tag loaded is the
// tag deployed), and so is what the scripts say when the machine is not ready.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';
import { ROOT, FIXTURES, find } from './lib/common.mjs';
import { loadTaskfile, plan, run } from './lib/taskfile.mjs';
import { parseDocs } from './lib/kustomize.mjs';

const TASKFILE = path.join(ROOT, 'Taskfile.yaml');
const STANDINS = path.join(ROOT, 'tests/k8s/standins');
const tf = loadTaskfile(TASKFILE);
const CONTEXT = ['--context', 'kind-webapp-cluster'];

function sandbox(extraEnv = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k8s-task-'));
  for (const d of ['standin', 'state', 'tmp']) fs.mkdirSync(path.join(dir, d));
  fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n::1 localhost');
  const env = {
    PATH: `${STANDINS}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    HOME: dir,
    TMPDIR: path.join(dir, 'tmp'),
    LANG: 'C',
    STANDIN_DIR: path.join(dir, 'standin'),
    K8S_STATE_DIR: path.join(dir, 'state'),
    HOSTS_FILE: path.join(dir, 'hosts'),
    ADDON_MANIFEST_DIR: FIXTURES,
    ...extraEnv,
  };
  const sb = {
    dir,
    env,
    task(name, more = {}, vars = {}) {
      return run(tf, name, { cwd: ROOT, env: { ...env, ...more }, vars });
    },
    calls() {
      const f = path.join(env.STANDIN_DIR, 'calls.log');
      if (!fs.existsSync(f)) return [];
      return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => l.split('\t'));
    },
    applied() {
      const d = path.join(env.STANDIN_DIR, 'applied');
      return fs.existsSync(d) ? fs.readdirSync(d).sort().map((f) => path.join(d, f)) : [];
    },
    cleanup() { fs.rmSync(dir, { recursive: true, force: true }); },
  };
  return sb;
}

const has = (call, ...words) => words.every((w) => call.includes(w));
function indexOf(calls, pred, what) {
  const i = calls.findIndex(pred);
  assert.ok(i >= 0, `no call ${what} in:\n${calls.map((c) => c.join(' ')).join('\n')}`);
  return i;
}
const ok = (r, what) => assert.equal(r.status, 0, `${what} failed (${r.failed}):\n${r.stdout}\n${r.stderr}`);

// --- the Taskfile itself --------------------------------------------------------------------

test('every task resolves: referenced tasks exist, scripts exist and are executable, no deps', () => {
  const scripts = new Set();
  for (const name of Object.keys(tf.tasks)) {
    for (const step of plan(tf, name, { REPLICAS: '3' })) {
      const word = step.cmd.split(/\s+/)[0];
      if (word === 'make') {
        const target = step.cmd.split(/\s+/)[1];
        const mk = fs.readFileSync(path.join(ROOT, 'Makefile'), 'utf8');
        assert.match(mk, new RegExp(`^${target}:`, 'm'), `task ${name}: make ${target} has no Makefile target`);
        continue;
      }
      assert.match(word, /^scripts\/k8s\/[a-z-]+\.sh$/, `task ${name}: '${step.cmd}' is not a thin wrapper over a script`);
      const p = path.join(ROOT, word);
      assert.ok(fs.existsSync(p), `task ${name}: ${word} missing`);
      fs.accessSync(p, fs.constants.X_OK);
      scripts.add(word);
    }
  }
  const all = fs.readdirSync(path.join(ROOT, 'scripts/k8s')).filter((f) => f !== 'lib.sh').map((f) => `scripts/k8s/${f}`);
  assert.deepEqual(all.filter((s) => !scripts.has(s)), [], 'scripts no task calls');
});

test('the task names of the issue and of the reference design exist', () => {
  const names = [
    // the issue
    'setup', 'doctor', 'cluster:create', 'cluster:delete', 'build', 'load', 'deploy', 'status', 'hpa:watch',
    'logs', 'load:start', 'load:stop', 'test:smoke', 'hosts:add', 'hosts:remove', 'teardown', 'up', 'down', 'test',
    // the reference design's users
    'cluster:status', 'build:backend', 'build:frontend', 'build:all', 'load:backend', 'load:frontend', 'load:all',
    'deploy:all', 'deploy:postgres', 'deploy:redis', 'deploy:backend', 'deploy:frontend', 'deploy:ingress',
    'port:frontend', 'port:backend', 'port:postgres', 'port:redis', 'logs:backend', 'logs:frontend',
    'status:pods', 'status:services', 'status:hpa', 'status:all', 'top:pods', 'top:nodes', 'test:health',
    'test:users', 'test:stress', 'test:load', 'test:load-intensive', 'restart:backend', 'restart:frontend',
    'scale:backend', 'clean:cluster', 'clean:all', 'reset',
  ];
  assert.deepEqual(names.filter((n) => !tf.tasks[n]), []);
  for (const [n, t] of Object.entries(tf.tasks)) assert.ok(t.desc, `task ${n} has no desc`);
  assert.deepEqual(plan(tf, 'setup').map((s) => s.cmd), ['scripts/k8s/setup.sh']);
  assert.deepEqual(plan(tf, 'scale:backend', { REPLICAS: '5' }).map((s) => s.cmd), ['scripts/k8s/ops.sh scale backend 5']);
  assert.deepEqual(plan(tf, 'up').map((s) => s.cmd), ['make up']);
});

// --- task setup, step by step ----------------------------------------------------------------

test('task setup runs doctor, cluster, add-ons, build, load, deploy, wait, verify in order, with one tag', () => {
  const sb = sandbox();
  try {
    const r = sb.task('setup');
    ok(r, 'task setup');
    const calls = sb.calls();
    const at = (what, pred) => indexOf(calls, pred, what);
    const doctor = at('docker info', (c) => has(c, 'docker', 'info'));
    const create = at('kind create cluster', (c) => has(c, 'kind', 'create', 'cluster'));
    const createCall = calls[create];
    assert.equal(createCall[createCall.indexOf('--name') + 1], 'webapp-cluster');
    assert.equal(createCall[createCall.indexOf('--config') + 1], path.join(ROOT, 'k8s/kind/cluster.yaml'));
    const addons = at('add-ons applied', (c) => c[0] === 'kubectl' && c.includes('--server-side') && c.some((a) => a.endsWith('/addons/contour')));
    at('metrics-server applied', (c) => c[0] === 'kubectl' && c.some((a) => a.endsWith('/addons/metrics-server')));
    const builds = calls.map((c, i) => [c, i]).filter(([c]) => has(c, 'docker', 'build'));
    assert.equal(builds.length, 2, 'two images built');
    const built = builds.map(([c]) => c[c.indexOf('-t') + 1]);
    const loads = calls.map((c, i) => [c, i]).filter(([c]) => has(c, 'kind', 'load', 'docker-image'));
    const loaded = loads.map(([c]) => c[3]);
    const secret = at('secret created', (c) => c[0] === 'kubectl' && c.includes('create') && c.includes('-'));
    const deploy = at('application applied', (c) => c[0] === 'kubectl' && c.includes('apply') && c.includes('-k') && c.some((a) => a.endsWith('/state/deploy')));
    const rollout = at('backend rollout waited for', (c) => has(c, 'kubectl', 'rollout', 'status', 'deployment/backend'));
    const smoke = at('smoke test through the ingress', (c) => c[0] === 'curl');

    // The exact sequence of everything that changes the machine or the cluster, or waits.
    const firstBuild = calls.find((c) => has(c, 'docker', 'build'));
    const T = firstBuild[firstBuild.indexOf('-t') + 1].split(':').pop();
    const events = calls.map((c) => {
      const a = c[0] === 'kubectl' ? c.slice(3) : c.slice(1);
      if (c[0] === 'kind' && a[0] === 'create') return `kind create cluster ${a[a.indexOf('--name') + 1]}`;
      if (c[0] === 'kind' && a[0] === 'load') return `kind load ${a[2]}`;
      if (c[0] === 'docker' && a[0] === 'build') return `docker build ${a[a.indexOf('-t') + 1]}`;
      if (c[0] !== 'kubectl') return null;
      const rest = c.slice(3).filter((x) => !['-n', 'webapp', 'projectcontour', 'kube-system'].includes(x));
      if (rest[0] === 'apply' || rest[0] === 'create') {
        const src = rest[rest.indexOf(rest.includes('-k') ? '-k' : '-f') + 1];
        return `kubectl ${rest[0]} ${src === '-' ? 'stdin' : path.basename(src)}`;
      }
      if (rest[0] === 'rollout') return `kubectl rollout ${rest[2]}`;
      if (rest[0] === 'wait') return 'kubectl wait nodes';
      return null;
    }).filter(Boolean);
    assert.deepEqual(events, [
      'kind create cluster webapp-cluster', 'kubectl wait nodes',
      'kubectl apply contour', 'kubectl apply metrics-server',
      `docker build localhost/webapp-backend:${T}`, `docker build localhost/webapp-frontend:${T}`,
      `kind load localhost/webapp-backend:${T}`, `kind load localhost/webapp-frontend:${T}`,
      'kubectl apply webapp-namespace.yaml', 'kubectl create stdin', 'kubectl apply deploy',
      'kubectl rollout deployment/contour', 'kubectl rollout daemonset/envoy', 'kubectl rollout deployment/metrics-server',
      'kubectl rollout statefulset/postgres', 'kubectl rollout deployment/redis', 'kubectl rollout deployment/backend',
      'kubectl rollout deployment/frontend',
    ]);
    assert.ok(doctor < create && create < addons, 'doctor, then cluster, then add-ons');
    assert.ok(addons < builds[0][1], 'add-ons are applied before the build (they download meanwhile)');
    assert.ok(Math.max(...builds.map(([, i]) => i)) < Math.min(...loads.map(([, i]) => i)), 'every image is built before any is loaded');
    assert.ok(Math.max(...loads.map(([, i]) => i)) < deploy, 'loaded before deployed');
    assert.ok(secret < deploy && deploy < rollout && rollout < smoke, 'secret, deploy, wait, verify');

    // One tag: built == loaded == deployed, and never latest.
    const tag = built[0].split(':').pop();
    assert.match(tag, /^[0-9A-Za-z][0-9A-Za-z_.-]*$/);
    assert.notEqual(tag, 'latest');
    assert.deepEqual(built.sort(), [`localhost/webapp-backend:${tag}`, `localhost/webapp-frontend:${tag}`]);
    assert.deepEqual(loaded.sort(), built);
    const appFile = sb.applied().find((f) => fs.readFileSync(f, 'utf8').includes('kind: HorizontalPodAutoscaler'));
    const objs = parseDocs(fs.readFileSync(appFile, 'utf8'));
    const deployed = objs.filter((o) => o.spec && o.spec.template)
      .flatMap((o) => o.spec.template.spec.containers.map((c) => c.image))
      .filter((i) => i.startsWith('localhost/'));
    // The backend image runs twice (backend, autoscaler-view): the same tag both times.
    assert.deepEqual([...new Set(deployed)].sort(), built, 'the tags deployed are the tags built and loaded');
    assert.equal(find(objs, 'Deployment', 'backend').metadata.namespace, 'webapp');
    // autoscaler-view's egress narrowed to the addresses the cluster reports for its API server.
    const viewEgress = find(objs, 'NetworkPolicy', 'autoscaler-view').spec.egress;
    assert.deepEqual(viewEgress.flatMap((r) => r.to.map((t) => t.ipBlock.cidr)).sort(), ['10.96.0.1/32', '172.18.0.2/32']);
    assert.deepEqual(viewEgress[0].ports.map((p) => p.port), [443, 6443]);

    // Every kubectl call names the kind cluster's context: no other cluster is touched.
    for (const c of calls.filter((x) => x[0] === 'kubectl' && x[1] !== 'version')) {
      assert.deepEqual(c.slice(1, 3), CONTEXT, `kubectl without --context: ${c.join(' ')}`);
    }
    // The Secret: created from stdin with random passwords for every key the manifests use.
    const secretDoc = YAML.parse(fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'secret-webapp-credentials'), 'utf8'));
    assert.equal(secretDoc.kind, 'Secret');
    assert.equal(secretDoc.metadata.name, 'webapp-credentials');
    const pw = Object.values(secretDoc.stringData);
    assert.deepEqual(Object.keys(secretDoc.stringData).sort(), ['db-password', 'redis-password']);
    for (const p of pw) assert.match(String(p), /^[A-Za-z0-9]{32}$/);
    assert.notEqual(pw[0], pw[1]);
    const everything = fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), 'utf8')
      + fs.readdirSync(sb.env.K8S_STATE_DIR, { recursive: true }).map((f) => {
        const p = path.join(sb.env.K8S_STATE_DIR, f);
        return fs.statSync(p).isFile() ? fs.readFileSync(p, 'utf8') : '';
      }).join('') + r.stdout + r.stderr;
    for (const p of pw) assert.ok(!everything.includes(p), 'a password leaked into a command line, a file or the output');
    // The smoke test goes through the ingress by name without needing a hosts entry.
    assert.ok(calls[smoke].includes('webapp.local:80:127.0.0.1'), calls[smoke].join(' '));
    assert.match(r.stdout, /http:\/\/webapp\.local\b/);
    assert.match(r.stdout, /task hpa:watch/);
    // What to do next, in order: the hosts entry, then the page (xdg-open on Linux), then
    // the sustained load that scales (not the single stress request).
    const next = r.stdout.slice(r.stdout.indexOf('The demo is up'));
    assert.ok(next.indexOf('task hosts:add') < next.indexOf('xdg-open http://webapp.local'), next);
    assert.match(next, /"Start load" on the page/);
    assert.match(next, /"Run stress test" sends a single request/);

    // Again: the cluster and the Secret are kept, the new build is rolled out.
    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    ok(sb.task('setup', { TAG: 'second-run' }), 'second task setup');
    const again = sb.calls();
    assert.ok(!again.some((c) => has(c, 'kind', 'create')), 'the existing cluster is reused');
    assert.ok(!again.some((c) => c[0] === 'kubectl' && c.includes('create')), 'the existing Secret is kept');
    assert.deepEqual(again.filter((c) => has(c, 'kind', 'load', 'docker-image')).map((c) => c[3]).sort(),
      ['localhost/webapp-backend:second-run', 'localhost/webapp-frontend:second-run']);
    const last = sb.applied().filter((f) => fs.readFileSync(f, 'utf8').includes('kind: HorizontalPodAutoscaler')).pop();
    assert.match(fs.readFileSync(last, 'utf8'), /image: localhost\/webapp-backend:second-run/);
  } finally {
    sb.cleanup();
  }
});

// Docker's containerd image store (kind issue 3795): kind saves every platform of the image
// and the node imports them with `ctr images import --all-platforms`, which fails on the
// attestation manifests Docker has no blobs for. The stand-ins fail that way.
test('load falls back to a single-platform archive when kind hits the containerd digest error', (t) => {
  const sb = sandbox({ STANDIN_CONTAINERD_STORE: '1' });
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    ok(sb.task('build', { TAG: 'v1.2.3' }), 'build');
    // The build asks BuildKit for no attestations (the entries the import trips on).
    assert.deepEqual(fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'docker-built-without-attestations'), 'utf8').trim().split('\n').sort(),
      ['localhost/webapp-backend:v1.2.3', 'localhost/webapp-frontend:v1.2.3']);

    // The old fallback, a plain `docker save` + `kind load image-archive`, ends in the same
    // import and fails with the same error: the stand-ins reproduce the issue.
    const sh = (cmd, args) => spawnSync(cmd, args, { env: sb.env, encoding: 'utf8' });
    const tar = path.join(sb.dir, 'all.tar');
    assert.equal(sh('docker', ['save', '-o', tar, 'localhost/webapp-backend:v1.2.3']).status, 0);
    const plain = sh('kind', ['load', 'image-archive', tar, '--name', 'webapp-cluster']);
    assert.equal(plain.status, 1);
    assert.match(plain.stderr, /ctr --namespace=k8s.io images import --all-platforms .*\n.*content digest sha256:[0-9a-f]+: not found/);
    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');

    const r = sb.task('load');
    ok(r, 'load with the fallback');
    assert.match(r.stderr, /kind load docker-image failed: Command Output: ctr: content digest sha256:[0-9a-f]+: not found/);
    assert.match(r.stderr, /falling back to docker image save --platform linux\/amd64/);
    const calls = sb.calls();
    for (const ref of ['localhost/webapp-backend:v1.2.3', 'localhost/webapp-frontend:v1.2.3']) {
      const first = indexOf(calls, (c) => has(c, 'kind', 'load', 'docker-image', ref), `kind load docker-image ${ref}`);
      const save = indexOf(calls, (c) => has(c, 'docker', 'image', 'save', ref), `docker image save ${ref}`);
      const saveCall = calls[save];
      assert.equal(saveCall[saveCall.indexOf('--platform') + 1], 'linux/amd64', 'one platform: the nodes\' (the engine\'s)');
      const archive = saveCall[saveCall.indexOf('-o') + 1];
      const load = indexOf(calls, (c) => has(c, 'kind', 'load', 'image-archive', archive) && calls.indexOf(c) > save, 'kind load image-archive');
      assert.ok(first < save && save < load, 'docker-image fails, then a different path: one-platform save, archive load');
    }
    assert.ok(!calls.some((c) => c[0] === 'docker' && c.includes('save') && !c.includes('--platform')),
      'no all-platform save (the path that fails exactly like kind load docker-image)');
    const loaded = fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'kind-loaded'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(loaded, ['localhost/webapp-backend:v1.2.3', 'localhost/webapp-frontend:v1.2.3']);
    assert.deepEqual(fs.readdirSync(sb.env.TMPDIR), [], 'the archive is removed');
    checkFlagsWithRealCli(t, calls);

    // Docker Desktop on Apple silicon: the nodes are linux/arm64.
    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    ok(sb.task('load:backend', { STANDIN_DOCKER_ARCH: 'arm64' }), 'load on arm64');
    const arm = sb.calls().find((c) => has(c, 'docker', 'image', 'save'));
    assert.equal(arm[arm.indexOf('--platform') + 1], 'linux/arm64');
  } finally {
    sb.cleanup();
  }
});

// The node image: pinned by digest to a Kubernetes version Contour v1.33 is tested with
// (its compatibility matrix: 1.34, 1.33, 1.32; metrics-server v0.8 supports 1.31+).
const CONTOUR_TESTED_K8S = ['1.32', '1.33', '1.34'];
// kind v0.30.0's default node image (listed in its release notes; Contour v1.33.6's
// end-to-end tests run on the same digest).
const PINNED_NODE_IMAGE = 'kindest/node:v1.34.0@sha256:7416a61b42b1662ca6ca89f02028ac133a309a2a30ba309614e8ec94d976dc5a';

test('kind create cluster uses the node image pinned by digest, inside Contour\'s tested Kubernetes versions', () => {
  const m = /^kindest\/node:v(\d+)\.(\d+)\.\d+@sha256:[0-9a-f]{64}$/.exec(PINNED_NODE_IMAGE);
  assert.ok(m, `${PINNED_NODE_IMAGE} is not kindest/node:vX.Y.Z@sha256:<digest>`);
  assert.ok(CONTOUR_TESTED_K8S.includes(`${m[1]}.${m[2]}`), `Kubernetes ${m[1]}.${m[2]} is outside ${CONTOUR_TESTED_K8S}`);
  const sb = sandbox();
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    const images = () => fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'kind-node-images-webapp-cluster'), 'utf8').trim().split('\n');
    assert.deepEqual(images(), [PINNED_NODE_IMAGE, PINNED_NODE_IMAGE, PINNED_NODE_IMAGE], 'every node runs the pinned image, none kind\'s default');
    ok(sb.task('cluster:delete'), 'cluster:delete');
    // Other host ports render a copy of the config: the pin survives.
    ok(sb.task('cluster:create', { INGRESS_HTTP_PORT: '8080' }), 'cluster:create on 8080');
    assert.deepEqual(images(), [PINNED_NODE_IMAGE, PINNED_NODE_IMAGE, PINNED_NODE_IMAGE]);
    ok(sb.task('cluster:delete'), 'cluster:delete');
    const other = 'kindest/node:v1.33.4@sha256:25a6018e48dfcaee478f4a59af81157a437f15e6e140bf103f85a2e7cd0cbbf2';
    ok(sb.task('cluster:create', { KIND_NODE_IMAGE: other }), 'cluster:create with KIND_NODE_IMAGE');
    assert.deepEqual(images(), [other, other, other], 'KIND_NODE_IMAGE overrides the pin');
  } finally {
    sb.cleanup();
  }
});

// Right after the rollouts Envoy may not have the routes yet: refused, 404, 503 for a while.
test('verify retries while Envoy learns the routes, and gives up after a bounded wait with a clear message', () => {
  const sb = sandbox({ VERIFY_RETRY_INTERVAL: '0.1' });
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    let r = sb.task('verify', { STANDIN_CURL_FAIL_FIRST: '5', VERIFY_WAIT: '60' });
    ok(r, 'verify after 5 failed attempts (refused, 404, 503, refused, 404)');
    assert.match(r.stderr, /GET \/: no answer; Envoy may still be learning the routes: retrying for up to \d+s/);
    assert.match(r.stderr, /GET \/ answers 200 after \d+s/);
    assert.match(r.stderr, /verify: all \d+ checks passed/);
    const pageCalls = sb.calls().filter((c) => c[0] === 'curl' && c.at(-1) === 'http://webapp.local:80/');
    assert.equal(pageCalls.length, 6, 'five failures, then the page');

    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    const started = Date.now();
    r = sb.task('verify', { STANDIN_CURL_FAIL_FIRST: 'always', VERIFY_WAIT: '2' });
    const took = (Date.now() - started) / 1000;
    assert.equal(r.status, 1);
    assert.match(r.stderr, /verify FAILED: GET \/ serves the page \(frontend\): (no answer from|got (404|503)).* \(still so after \d+s of retries; VERIFY_WAIT=2\)/);
    assert.match(r.stderr, /look with: /);
    assert.ok(sb.calls().filter((c) => c[0] === 'curl').length >= 2, 'it retried before giving up');
    assert.ok(took < 60, `bounded: gave up after ${took}s`);
    assert.ok(!sb.calls().some((c) => c[0] === 'curl' && c.at(-1).includes('/api/users')), 'stops at the first failed check');

    r = sb.task('verify', { VERIFY_WAIT: 'soon' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /VERIFY_WAIT must be a whole number/);
  } finally {
    sb.cleanup();
  }
});

test('setup stops at the doctor, with the fix, when Docker is down or port 80 is taken', () => {
  const sb = sandbox();
  try {
    let r = sb.task('setup', { STANDIN_DOCKER_DOWN: '1' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /FAIL {2}Docker is installed but the engine does not answer/);
    assert.match(r.stderr, /start Docker Desktop/);
    assert.ok(!sb.calls().some((c) => has(c, 'kind', 'create')), 'no cluster without Docker');

    r = sb.task('setup', { STANDIN_PORT_BUSY: '80' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /port 80 is in use/);
    assert.match(r.stderr, /INGRESS_HTTP_PORT=8080/);
    assert.match(r.stderr, /warn .*lacks '127\.0\.0\.1 webapp\.local'/);
    assert.ok(!sb.calls().some((c) => has(c, 'kind', 'create')));
  } finally {
    sb.cleanup();
  }
});

test('other host ports: the cluster maps them, and later tasks remember them without the variables', () => {
  const sb = sandbox();
  try {
    const ports = { INGRESS_HTTP_PORT: '8080', INGRESS_HTTPS_PORT: '8443', STANDIN_PORT_BUSY: '80' };
    const r = sb.task('setup', ports);
    ok(r, 'setup on 8080/8443 while 80 is busy');
    const create = sb.calls().find((c) => has(c, 'kind', 'create', 'cluster'));
    const cfgPath = create[create.indexOf('--config') + 1];
    const cfg = YAML.parse(fs.readFileSync(cfgPath, 'utf8'));
    const maps = cfg.nodes.flatMap((n) => n.extraPortMappings || []);
    assert.deepEqual(maps.map((m) => `${m.containerPort}->${m.hostPort}`).sort(), ['443->8443', '80->8080']);
    assert.ok(sb.calls().some((c) => c[0] === 'curl' && c.includes('webapp.local:8080:127.0.0.1')));
    assert.match(r.stdout, /http:\/\/webapp\.local:8080\b/);

    // Later, without the variables: the cluster's own mapping is the memory.
    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    ok(sb.task('verify'), 'verify without INGRESS_HTTP_PORT');
    const curls = sb.calls().filter((c) => c[0] === 'curl');
    assert.ok(curls.length > 0);
    for (const c of curls) {
      assert.ok(c.includes('webapp.local:8080:127.0.0.1'), c.join(' '));
      assert.match(c.at(-1), /^http:\/\/webapp\.local:8080\//);
    }
    let h = sb.task('hosts:add');
    ok(h, 'hosts:add');
    assert.match(h.stderr, /open http:\/\/webapp\.local:8080\b/);
    h = sb.task('doctor');
    ok(h, 'doctor');
    assert.match(h.stderr, /ok {4}port 8080: cluster webapp-cluster exists and maps it/);
    assert.match(h.stderr, /ok {4}port 8443: cluster webapp-cluster exists and maps it/);
    // A variable that disagrees with the existing cluster only applies to a new one.
    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    const v = sb.task('verify', { INGRESS_HTTP_PORT: '80' });
    ok(v, 'verify with a stale INGRESS_HTTP_PORT');
    assert.match(v.stderr, /note: cluster 'webapp-cluster' maps port 80 to 127\.0\.0\.1:8080; INGRESS_HTTP_PORT=80 applies to a new cluster only/);
    assert.ok(sb.calls().filter((c) => c[0] === 'curl').every((c) => c.includes('webapp.local:8080:127.0.0.1')));
  } finally {
    sb.cleanup();
  }
});

// macOS has no ss, and lsof without sudo does not list root's sockets: a web server that
// launchd runs as root on port 80 went unseen, and kind failed later on the busy port.
test('the port check sees a root-owned listener on macOS (netstat), and on Linux (ss)', () => {
  const sb = sandbox();
  try {
    const mac = { STANDIN_UNAME: 'Darwin', STANDIN_ROOT_LISTENER: '80' };
    // What the stand-ins model: lsof run as the user does not show root's listener.
    assert.equal(spawnSync('lsof', ['-nP', '-iTCP:80', '-sTCP:LISTEN'], { env: { ...sb.env, ...mac } }).status, 1);
    let r = sb.task('doctor', mac);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /checking this machine \(Darwin\)/);
    assert.match(r.stderr, /FAIL {2}port 80 is in use on this machine/);
    assert.match(r.stderr, /see what holds it: sudo lsof -nP -iTCP:80 -sTCP:LISTEN/);
    assert.match(r.stderr, /ok {4}port 443 free/);
    assert.ok(sb.calls().some((c) => has(c, 'netstat', '-an')), 'netstat lists every listener');
    assert.ok(!sb.calls().some((c) => c[0] === 'ss'), 'no ss on macOS');

    fs.writeFileSync(path.join(sb.env.STANDIN_DIR, 'calls.log'), '');
    r = sb.task('doctor', { STANDIN_UNAME: 'Darwin' });
    ok(r, 'doctor on a Mac with free ports');
    assert.match(r.stderr, /ok {4}port 80 free/);
    assert.ok(sb.calls().some((c) => has(c, 'nc', '-z', '127.0.0.1', '80')), 'a connection attempt as a second opinion');

    r = sb.task('doctor', { STANDIN_ROOT_LISTENER: '443' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /FAIL {2}port 443 is in use/);
    assert.match(r.stderr, /sudo ss -ltnp 'sport = :443'/);
  } finally {
    sb.cleanup();
  }
});

test('a wait that times out names the likely cause and the command that shows it', () => {
  const sb = sandbox();
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    const r = sb.task('wait', { STANDIN_ROLLOUT_FAIL: 'deployment/backend', WAIT_TIMEOUT: '5' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /backend \(deployment\/backend in namespace webapp\) not ready after 5s/);
    assert.match(r.stderr, /ImagePullBackOff/);
    assert.match(r.stderr, /likely cause: the image is not on the kind nodes/);
    assert.match(r.stderr, /look with: {4}kubectl --context kind-webapp-cluster -n webapp describe pods -l app.kubernetes.io\/name=backend/);
    assert.match(r.stderr, /task build && task load && task deploy/);
    assert.ok(!sb.calls().some((c) => has(c, 'deployment/frontend')), 'stops at the first failure');
  } finally {
    sb.cleanup();
  }
});

test('the steps refuse to run out of order, and say what to run first', () => {
  const sb = sandbox();
  try {
    let r = sb.task('deploy');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cluster 'webapp-cluster' does not exist: run 'task cluster:create'/);
    ok(sb.task('cluster:create'), 'cluster:create');
    r = sb.task('deploy:app');
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /no image tag for the backend: run 'task build' first/);
    r = sb.task('load', { TAG: 'never-built' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /localhost\/webapp-backend:never-built is not in Docker: run 'task build'/);
    r = sb.task('build', { STANDIN_DOCKER_DOWN: '1' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Docker engine does not answer/);
    r = sb.task('build', { TAG: 'bad tag!' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /invalid image tag/);
  } finally {
    sb.cleanup();
  }
});

test('hosts:add adds both address families once, hosts:remove removes only its own lines', () => {
  const sb = sandbox();
  try {
    const hosts = sb.env.HOSTS_FILE;
    const before = fs.readFileSync(hosts, 'utf8'); // no trailing newline on purpose
    ok(sb.task('hosts:add'), 'hosts:add');
    ok(sb.task('hosts:add'), 'hosts:add again');
    const lines = fs.readFileSync(hosts, 'utf8').split('\n');
    assert.equal(lines.filter((l) => /^127\.0\.0\.1 webapp\.local /.test(l)).length, 1);
    assert.equal(lines.filter((l) => /^::1 webapp\.local /.test(l)).length, 1);
    assert.ok(lines.includes('::1 localhost'), 'the last line is not glued to ours');
    const r = sb.task('doctor');
    ok(r, 'doctor');
    assert.match(r.stderr, /ok {4}.*maps webapp\.local to 127\.0\.0\.1 and ::1/);
    ok(sb.task('hosts:remove'), 'hosts:remove');
    assert.equal(fs.readFileSync(hosts, 'utf8'), `${before}\n`);
  } finally {
    sb.cleanup();
  }
});

test('load:start runs the in-cluster Job with the chosen settings; load:stop deletes it', () => {
  const sb = sandbox();
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    ok(sb.task('load:start', { LOAD_CONCURRENCY: '7', LOAD_DURATION_SECONDS: '120' }), 'load:start');
    const calls = sb.calls();
    const del = indexOf(calls, (c) => has(c, 'kubectl', 'delete', 'job', 'load-generator'), 'old job deleted');
    const apply = indexOf(calls, (c) => has(c, 'kubectl', 'apply', '-k'), 'job applied');
    assert.ok(del < apply, 'a previous run is replaced (a Job template cannot change)');
    const job = parseDocs(fs.readFileSync(sb.applied().pop(), 'utf8'))[0];
    assert.equal(job.kind, 'Job');
    assert.equal(job.metadata.namespace, 'webapp');
    assert.equal(job.spec.activeDeadlineSeconds, 150, 'hard stop 30 s after the duration');
    const env = Object.fromEntries(job.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
    assert.deepEqual(env, { TARGET_URL: 'http://backend-service:8080', CONCURRENCY: '7', STRESS_MS: '200', DURATION_SECONDS: '120' });
    assert.ok(!calls.some((c) => c.includes('port-forward')), 'load never goes through a port-forward');

    ok(sb.task('test:load-intensive'), 'test:load-intensive');
    const heavy = parseDocs(fs.readFileSync(sb.applied().pop(), 'utf8'))[0];
    const henv = Object.fromEntries(heavy.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
    assert.equal(henv.CONCURRENCY, '16');
    assert.equal(henv.STRESS_MS, '500');

    const bad = sb.task('load:start', { LOAD_CONCURRENCY: '0' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /LOAD_CONCURRENCY must be within 1\.\.64/);
    ok(sb.task('load:stop'), 'load:stop');
    assert.ok(sb.calls().pop().includes('--cascade=foreground'));
  } finally {
    sb.cleanup();
  }
});

// The real CLI (not the stand-in) of NAME on this machine's PATH, or null.
function realCli(name) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir, name);
    if (dir && path.resolve(dir) !== STANDINS && fs.existsSync(p)) return p;
  }
  return null;
}

// Each distinct kubectl/docker call is given to the real CLI with --help appended: cobra
// parses every flag first, so an unknown flag or a misplaced argument fails there.
function checkFlagsWithRealCli(t, calls) {
  const bad = [];
  for (const tool of ['kubectl', 'docker']) {
    const real = realCli(tool);
    if (!real) {
      t.diagnostic(`${tool} not installed: its flags were not checked against the real CLI`);
      continue;
    }
    const seen = new Set(calls.filter((c) => c[0] === tool).map((c) => JSON.stringify(c.slice(1))));
    for (const key of seen) {
      const args = JSON.parse(key);
      const r = spawnSync(real, [...args, '--help'], { encoding: 'utf8', timeout: 10000 });
      if (r.status !== 0) bad.push(`${tool} ${args.join(' ')}: ${(r.stderr || '').split('\n')[0]}`);
    }
    t.diagnostic(`${seen.size} distinct ${tool} calls checked against ${real}`);
  }
  assert.deepEqual(bad, [], 'calls the real CLI rejects');
}

test('every other task runs against the stand-ins after a setup', (t) => {
  const sb = sandbox();
  try {
    ok(sb.task('setup'), 'setup');
    const skip = new Set(['setup', 'up', 'down', 'test', 'reset', 'teardown', 'clean:all', 'clean:cluster', 'cluster:delete']);
    const seen = new Set(); // tasks that run exactly the same commands run once
    for (const name of Object.keys(tf.tasks).filter((n) => !skip.has(n))) {
      const key = JSON.stringify(plan(tf, name, { REPLICAS: '4' }));
      if (seen.has(key)) continue;
      seen.add(key);
      ok(sb.task(name, {}, { REPLICAS: '4' }), `task ${name}`);
    }
    const scale = sb.calls().find((c) => has(c, 'kubectl', 'scale'));
    assert.ok(scale.includes('--replicas=4'), scale.join(' '));
    // reset is teardown then setup, both run in full elsewhere.
    assert.deepEqual(plan(tf, 'reset').map((s) => s.cmd), ['scripts/k8s/teardown.sh', 'scripts/k8s/setup.sh']);
    ok(sb.task('teardown'), 'teardown');
    assert.ok(sb.calls().some((c) => has(c, 'kind', 'delete', 'cluster', '--name', 'webapp-cluster')));
    assert.ok(!fs.existsSync(sb.env.K8S_STATE_DIR), 'teardown removes .local/k8s');
    ok(sb.task('cluster:delete'), 'cluster:delete without a cluster');
    checkFlagsWithRealCli(t, sb.calls());
  } finally {
    sb.cleanup();
  }
});
