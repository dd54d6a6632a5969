// Structural checks of docker/compose.yaml (no Docker engine here to run it):
// pinned official images, health checks everywhere, start order on health, the frontend
// on localhost:8080, build contexts and Dockerfiles that exist, wiring between services.
// Usage: node tests/images/compose_check.mjs docker/compose.yaml
// Prints the healthcheck commands of backend and frontend as JSON on stdout (the shell
// test runs them inside the real containers).
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const file = process.argv[2];
const doc = YAML.parseDocument(fs.readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true });
if (doc.errors.length) {
  console.error(doc.errors.map(String).join('\n'));
  process.exit(1);
}
const compose = doc.toJS({ maxAliasCount: 100 });
const failures = [];
const check = (ok, msg) => { if (!ok) failures.push(msg); };

const services = compose.services ?? {};
for (const name of ['postgres', 'redis', 'backend', 'frontend']) {
  check(services[name], `service ${name} is missing`);
}
if (failures.length === 0) {
  // Official images, pinned to a patch version (not latest, not a bare major).
  check(/^postgres:15\.\d+(-[a-z0-9]+)?$/.test(services.postgres.image ?? ''),
    `postgres image must be postgres:15.<minor>[-variant], got ${services.postgres.image}`);
  check(/^redis:7\.\d+\.\d+(-[a-z0-9]+)?$/.test(services.redis.image ?? ''),
    `redis image must be redis:7.<minor>.<patch>[-variant], got ${services.redis.image}`);

  for (const [name, svc] of Object.entries(services)) {
    const test = svc.healthcheck?.test;
    check(Array.isArray(test) && ['CMD', 'CMD-SHELL'].includes(test[0]) && test.length > 1,
      `${name}: healthcheck.test must be a CMD or CMD-SHELL list`);
    check(svc.healthcheck?.interval && svc.healthcheck?.retries, `${name}: healthcheck needs interval and retries`);
  }

  const dependsOn = (svc, dep) => svc.depends_on?.[dep]?.condition === 'service_healthy';
  check(dependsOn(services.backend, 'postgres'), 'backend must depend on postgres with condition service_healthy');
  check(dependsOn(services.backend, 'redis'), 'backend must depend on redis with condition service_healthy');
  check(dependsOn(services.frontend, 'backend'), 'frontend must depend on backend with condition service_healthy');

  // Images built from this repository, with the same names as scripts/images.sh.
  const root = path.resolve(path.dirname(file));
  for (const name of ['backend', 'frontend']) {
    const svc = services[name];
    const ctx = path.resolve(root, svc.build?.context ?? '.');
    check(fs.existsSync(path.join(ctx, '.dockerignore')), `${name}: build context ${ctx} has no .dockerignore`);
    check(svc.build?.dockerfile === `docker/${name}.Dockerfile`, `${name}: build.dockerfile must be docker/${name}.Dockerfile`);
    check(fs.existsSync(path.join(ctx, svc.build?.dockerfile ?? '-')), `${name}: ${svc.build?.dockerfile} not found in ${ctx}`);
    check(new RegExp(`^localhost/webapp-${name}:`).test(svc.image ?? ''), `${name}: image must be localhost/webapp-${name}:<tag>`);
    check(svc.read_only === true, `${name}: read_only must be true`);
    check((svc.cap_drop ?? []).includes('ALL'), `${name}: cap_drop must include ALL`);
  }

  const env = (svc) => svc.environment ?? {};
  check(env(services.backend).DB_HOST === 'postgres', 'backend DB_HOST must be postgres');
  check(env(services.backend).REDIS_HOST === 'redis', 'backend REDIS_HOST must be redis');
  check(env(services.backend).DB_NAME === env(services.postgres).POSTGRES_DB, 'backend DB_NAME must match POSTGRES_DB');
  check(env(services.backend).DB_USER === env(services.postgres).POSTGRES_USER, 'backend DB_USER must match POSTGRES_USER');
  check(env(services.frontend).BACKEND_URL === 'http://backend:8080', 'frontend BACKEND_URL must be http://backend:8080');
  check((services.frontend.tmpfs ?? []).some((t) => t.startsWith('/tmp')), 'frontend needs a tmpfs on /tmp (read-only root)');

  // Only the frontend is published, on http://localhost:8080.
  const ports = services.frontend.ports ?? [];
  check(ports.some((p) => /^(127\.0\.0\.1:)?8080:8080$/.test(String(p))), `frontend must publish 8080:8080, got ${JSON.stringify(ports)}`);
  for (const name of ['postgres', 'redis', 'backend']) {
    check(!services[name].ports, `${name} must not be published on the host`);
  }
}

if (failures.length) {
  console.error(`${file}:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
const shellOf = (test) => (test[0] === 'CMD' ? test.slice(1) : ['sh', '-c', test[1]]);
console.log(JSON.stringify({
  backend: shellOf(services.backend.healthcheck.test),
  frontend: shellOf(services.frontend.healthcheck.test),
}));
