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
      .filter((i) => i.startsWith('localhost/')).sort();
    assert.deepEqual(deployed, built, 'the tags deployed are the tags built and loaded');
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

test('load falls back to docker save + kind load image-archive on the containerd digest error', () => {
  const sb = sandbox();
  try {
    ok(sb.task('cluster:create'), 'cluster:create');
    ok(sb.task('build', { TAG: 'v1.2.3' }), 'build');
    const r = sb.task('load', { STANDIN_KIND_LOAD_FAIL: '1' });
    ok(r, 'load with the fallback');
    assert.match(r.stderr, /content digest .* not found/);
    assert.match(r.stderr, /falling back/);
    const calls = sb.calls();
    const save = indexOf(calls, (c) => has(c, 'docker', 'save', 'localhost/webapp-backend:v1.2.3'), 'docker save');
    const archive = indexOf(calls, (c) => has(c, 'kind', 'load', 'image-archive'), 'kind load image-archive');
    assert.ok(save < archive);
    const loaded = fs.readFileSync(path.join(sb.env.STANDIN_DIR, 'kind-loaded'), 'utf8').trim().split('\n').sort();
    assert.deepEqual(loaded, ['localhost/webapp-backend:v1.2.3', 'localhost/webapp-frontend:v1.2.3']);
    assert.deepEqual(fs.readdirSync(sb.env.TMPDIR), [], 'the archive is removed');
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

test('other host ports: the cluster maps them and the smoke test uses them', () => {
  const sb = sandbox({ INGRESS_HTTP_PORT: '8080', INGRESS_HTTPS_PORT: '8443' });
  try {
    ok(sb.task('setup', { STANDIN_PORT_BUSY: '80' }), 'setup on 8080/8443 while 80 is busy');
    const create = sb.calls().find((c) => has(c, 'kind', 'create', 'cluster'));
    const cfgPath = create[create.indexOf('--config') + 1];
    const cfg = YAML.parse(fs.readFileSync(cfgPath, 'utf8'));
    const maps = cfg.nodes.flatMap((n) => n.extraPortMappings || []);
    assert.deepEqual(maps.map((m) => `${m.containerPort}->${m.hostPort}`).sort(), ['443->8443', '80->8080']);
    assert.ok(sb.calls().some((c) => c[0] === 'curl' && c.includes('webapp.local:8080:127.0.0.1')));
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
