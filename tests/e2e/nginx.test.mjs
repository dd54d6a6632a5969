// nginx in front of the backend: rendering, nginx -t, proxying with the path unchanged,
// security and cache headers, gzip, SPA fallback, /healthz. Plain HTTP, no browser.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { describe, test } from "node:test";

import { env, http, ROOT, unique, waitFor } from "./lib.mjs";

const RENDER = path.join(ROOT, "frontend/nginx/render.sh");

// scripts/frontend.sh always gets the test stack's settings explicitly, whatever the caller's
// environment holds: it must never act on another stack (such as the one `make up` runs).
function frontendSh(args, extra = {}) {
  return spawnSync(path.join(ROOT, "scripts/frontend.sh"), args, {
    encoding: "utf8",
    env: {
      ...process.env,
      STACK_DIR: env.stackDir,
      FRONTEND_PORT: new URL(env.base).port,
      BACKEND_URL: env.backend,
      NGINX_WORKER_PROCESSES: "2",
      ...extra,
    },
  });
}

function render(vars) {
  return spawnSync(RENDER, [], { env: { PATH: process.env.PATH, ...vars }, encoding: "utf8" });
}

function assertSecurityHeaders(res, what) {
  const h = (n) => res.headers.get(n);
  const csp = h("content-security-policy") || "";
  assert.match(csp, /(^|;\s*)default-src 'self'(;|$)/, `${what}: CSP default-src 'self' (got "${csp}")`);
  assert.match(csp, /frame-ancestors 'none'/, `${what}: CSP frame-ancestors`);
  // Only the site itself: no other origin, no inline code, no eval.
  assert.doesNotMatch(csp, /https?:|\*|unsafe-inline|unsafe-eval|data:/, `${what}: CSP allows only 'self' (got "${csp}")`);
  assert.equal(h("x-content-type-options"), "nosniff", `${what}: X-Content-Type-Options`);
  assert.equal(h("x-frame-options"), "DENY", `${what}: X-Frame-Options`);
  assert.ok(h("referrer-policy"), `${what}: Referrer-Policy`);
  assert.equal(h("server"), "nginx", `${what}: Server header without a version`);
}

describe("configuration", () => {
  test("scripts/frontend.sh render writes a config that nginx -t accepts", () => {
    const r = frontendSh(["render"]);
    assert.equal(r.status, 0, r.stderr);
    const conf = r.stdout.trim().split("\n").pop();
    assert.equal(conf, path.join(env.stackDir, "nginx/nginx.conf"));
    const t = spawnSync("nginx", ["-t", "-p", `${path.dirname(conf)}/`, "-c", conf, "-e", "stderr"], { encoding: "utf8" });
    assert.equal(t.status, 0, `nginx -t failed:\n${t.stderr}`);
    assert.match(t.stderr, /test is successful/);
    const text = fs.readFileSync(conf, "utf8");
    const backendPort = new URL(env.backend).port;
    assert.match(text, new RegExp(`server 127\\.0\\.0\\.1:${backendPort};`), "upstream is the local backend");
    assert.match(text, new RegExp(`listen 127\\.0\\.0\\.1:${new URL(env.base).port};`), "listens on loopback");
    assert.doesNotMatch(text.replace(/#.*$/gm, ""), /\$\{[A-Z_]+\}/, "no placeholder left");
  });

  test("scripts/frontend.sh start is idempotent and applies a changed environment with a reload", async () => {
    const pidFile = path.join(env.stackDir, "nginx/nginx.pid");
    const pid = fs.readFileSync(pidFile, "utf8").trim();
    const again = frontendSh(["start"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already running .*nothing to do/);
    try {
      const reload = frontendSh(["start"], { NGINX_WORKER_PROCESSES: "1" });
      assert.equal(reload.status, 0, reload.stderr);
      assert.match(reload.stderr, /reloaded/);
      assert.match(fs.readFileSync(path.join(env.stackDir, "nginx/nginx.conf"), "utf8"), /^worker_processes 1;/m);
    } finally {
      const back = frontendSh(["start"]);
      assert.match(back.stderr, /reloaded|nothing to do/);
    }
    assert.equal(fs.readFileSync(pidFile, "utf8").trim(), pid, "same master process throughout");
    await waitFor(async () => (await http(`${env.base}/healthz`)).status === 200, { message: "nginx to answer after the reload" });
    const status = frontendSh(["status"]);
    assert.equal(status.status, 0);
    assert.match(status.stdout, new RegExp(`running \\(pid ${pid}\\)`));
  });

  test("the template's defaults suit the container: backend-service:8080, port 8080, logs to stdout/stderr", () => {
    const r = render({});
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /server backend-service:8080;/);
    assert.match(r.stdout, /listen 8080;/);
    assert.match(r.stdout, /access_log \/dev\/stdout json;/);
    assert.match(r.stdout, /error_log stderr warn;/);
    // Every path nginx writes to is relative to the prefix (-p), none under /var or /run.
    for (const d of ["pid", "client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path"]) {
      const m = r.stdout.match(new RegExp(`^\\s*${d} ([^;]+);`, "m"));
      assert.ok(m, `${d} is set`);
      assert.ok(!m[1].startsWith("/"), `${d} is relative to the prefix (got ${m[1]})`);
    }
    assert.match(r.stdout, /proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;/);
    assert.match(r.stdout, /proxy_set_header X-Real-IP \$remote_addr;/);
    assert.match(r.stdout, /proxy_set_header X-Request-ID \$req_id;/);
    assert.match(r.stdout, /keepalive \d+;/);
    // Stress requests get a connection each, so that a Service spreads them over every pod.
    const stress = r.stdout.match(/location = \/api\/stress \{([^}]*)\}/);
    assert.ok(stress, "a location for /api/stress");
    assert.match(stress[1], /proxy_pass http:\/\/backend_per_request;/);
    const perRequest = r.stdout.match(/upstream backend_per_request \{([^}]*)\}/);
    assert.ok(perRequest && !/keepalive/.test(perRequest[1]), "backend_per_request has no keep-alive");
  });

  test("a rendered config runs from any writable prefix with a given port and backend", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nginx-render-"));
    try {
      const r = render({ BACKEND_URL: "http://127.0.0.1:9/", LISTEN_PORT: "18080", NGINX_ACCESS_LOG: `${dir}/access.log` });
      assert.equal(r.status, 0, r.stderr);
      fs.writeFileSync(`${dir}/nginx.conf`, r.stdout);
      const t = spawnSync("nginx", ["-t", "-p", `${dir}/`, "-c", `${dir}/nginx.conf`, "-e", "stderr"], { encoding: "utf8" });
      assert.equal(t.status, 0, t.stderr);
      assert.match(r.stdout, /server 127\.0\.0\.1:9;/);
      assert.match(r.stdout, /listen 18080;/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("render.sh refuses values that would change the config's meaning", () => {
    const bad = [
      { BACKEND_URL: "http://backend-service:8080/api" }, // a path would rewrite /api/users
      { BACKEND_URL: "http://x;return 200 hi" },
      { BACKEND_URL: "https://backend-service" },
      { BACKEND_URL: "http://backend:99999" },
      { LISTEN_PORT: "80; include /etc/passwd" },
      { LISTEN_PORT: "0" },
      { SITE_ROOT: "/nonexistent" },
      { NGINX_ACCESS_LOG: "/tmp/a log" },
      { NGINX_WORKER_PROCESSES: "two" },
    ];
    for (const vars of bad) {
      const r = render(vars);
      assert.equal(r.status, 2, `${JSON.stringify(vars)} should be refused`);
      assert.match(r.stderr, /render\.sh: /);
      assert.equal(r.stdout, "");
    }
  });
});

describe("serving", () => {
  test("GET /healthz answers JSON from nginx itself", async () => {
    const res = await http(`${env.base}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(await res.json(), { status: "ok" });
    assert.equal(res.headers.get("x-served-by"), null, "not proxied to the backend");
  });

  test("index.html is never cached, assets briefly, with security headers everywhere", async () => {
    for (const p of ["/", "/index.html"]) {
      const res = await http(`${env.base}${p}`);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get("content-type"), /^text\/html/);
      assert.equal(res.headers.get("cache-control"), "no-store", `${p} Cache-Control`);
      assertSecurityHeaders(res, p);
      assert.match(await res.text(), /<title>Autoscaling demo<\/title>/);
    }
    for (const p of ["/assets/app.css", "/assets/js/main.js", "/assets/favicon.svg"]) {
      const res = await http(`${env.base}${p}`);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get("cache-control") || "", /max-age=\d+/, `${p} Cache-Control`);
      assertSecurityHeaders(res, p);
    }
    const js = await http(`${env.base}/assets/js/main.js`);
    assert.match(js.headers.get("content-type"), /^text\/javascript/);
  });

  test("text assets are gzipped", async () => {
    for (const p of ["/assets/app.css", "/assets/js/main.js", "/"]) {
      const res = await http(`${env.base}${p}`, { headers: { "Accept-Encoding": "gzip" } });
      assert.equal(res.headers.get("content-encoding"), "gzip", p);
      await res.arrayBuffer();
    }
  });

  test("SPA fallback: unknown page paths get index.html, missing assets and dotfiles 404", async () => {
    for (const p of ["/users", "/users/42", "/some/deep/link?x=1"]) {
      const res = await http(`${env.base}${p}`);
      assert.equal(res.status, 200, p);
      assert.match(res.headers.get("content-type"), /^text\/html/, p);
      assert.equal(res.headers.get("cache-control"), "no-store", p);
      assert.match(await res.text(), /<title>Autoscaling demo<\/title>/, p);
    }
    for (const p of ["/assets/missing.js", "/assets/js/nope.js", "/.git/config", "/.env"]) {
      const res = await http(`${env.base}${p}`);
      assert.equal(res.status, 404, p);
      assertSecurityHeaders(res, p);
      await res.arrayBuffer();
    }
  });
});

describe("proxy to the backend", () => {
  test("/api/... reaches the backend with the path unchanged and the request id passed on", async () => {
    const rid = `e2e-path-${unique()}`;
    const res = await http(`${env.base}/api/users/987654321?probe=1`, { headers: { "X-Request-ID": rid } });
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type"), /^application\/json/);
    assert.equal(res.headers.get("x-served-by"), env.pod, "answered by the backend");
    assert.equal(res.headers.get("x-request-id"), rid, "the backend got our X-Request-ID");
    assert.equal(res.headers.get("x-request-id").split(",").length, 1, "one X-Request-ID header");
    assertSecurityHeaders(res, "/api 404");
    const body = await res.json();
    assert.equal(body.request_id, rid);
    // The backend's access log names the path it received.
    const logFile = path.join(env.stackDir, "logs/backend.log");
    const line = await waitFor(
      () => fs.readFileSync(logFile, "utf8").split("\n").find((l) => l.includes(rid)),
      { timeout: 5000, message: `a backend log line with request id ${rid}` },
    );
    assert.equal(JSON.parse(line).path, "/api/users/987654321", `backend saw: ${line}`);
  });

  test("an invalid client X-Request-ID is replaced, not passed on", async () => {
    const res = await http(`${env.base}/api/users?limit=1`, { headers: { "X-Request-ID": 'bad "id" with spaces' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("x-request-id"), /^[A-Za-z0-9._-]{1,64}$/);
    await res.arrayBuffer();
  });

  test("list, create, read and delete work through nginx; Link and Location come back", async () => {
    const email = `proxy-${unique()}@example.com`;
    const created = await http(`${env.base}/api/users`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Proxy Check", email }),
    });
    assert.equal(created.status, 201);
    const user = await created.json();
    assert.equal(created.headers.get("location"), `/api/users/${user.id}`);
    const one = await http(`${env.base}/api/users/${user.id}`);
    assert.equal(one.status, 200);
    assert.equal((await one.json()).email, email);
    const page = await http(`${env.base}/api/users?limit=1`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("link") || "", /^<\/api\/users\?limit=1&before=\d+>; rel="next"$/);
    await page.arrayBuffer();
    const del = await http(`${env.base}/api/users/${user.id}`, { method: "DELETE" });
    assert.equal(del.status, 204);
  });

  test("/health, /health/live and /api/health are proxied", async () => {
    for (const p of ["/health", "/health/live", "/health/ready", "/api/health"]) {
      const res = await http(`${env.base}${p}`);
      assert.equal(res.status, 200, p);
      assert.equal(res.headers.get("x-served-by"), env.pod, p);
      await res.arrayBuffer();
    }
    const res = await http(`${env.base}/api/health`);
    const body = await res.json();
    assert.equal(body.checks.database.status, "up");
    assert.equal(body.checks.redis.status, "up");
  });

  test("API requests reuse upstream connections; stress requests get a new one each", async () => {
    // nginx closes the connections it does not keep: each leaves a TIME-WAIT socket towards
    // the backend's port for a minute. Reused keep-alive connections leave none.
    const timeWait = () => {
      const r = spawnSync("ss", ["-tanH", "state", "time-wait", `( dport = :${new URL(env.backend).port} )`], { encoding: "utf8" });
      assert.equal(r.status, 0, `ss: ${r.stderr}`);
      return r.stdout.split("\n").filter((l) => l.trim()).length;
    };
    let before = timeWait();
    for (let i = 0; i < 10; i++) {
      const res = await http(`${env.base}/api/users?limit=1`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const reused = timeWait() - before;
    assert.ok(reused <= 2, `10 GET /api/users closed ${reused} upstream connections`);
    before = timeWait();
    for (let i = 0; i < 5; i++) {
      const res = await http(`${env.base}/api/stress?ms=1`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const fresh = timeWait() - before;
    assert.ok(fresh >= 5, `5 GET /api/stress closed only ${fresh} upstream connections`);
  });

  test("backend errors pass through unchanged (JSON, status, fields)", async () => {
    const res = await http(`${env.base}/api/users`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "x", email: "not-an-email" }),
    });
    assert.equal(res.status, 400);
    const body = await res.json();
    assert.equal(body.field, "email");
    assert.equal(res.headers.get("x-served-by"), env.pod);
  });

  test("a stress request longer than a few seconds is not cut off by the proxy", async () => {
    const res = await http(`${env.base}/api/stress?ms=2500`, { timeout: 20000 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.ok(body.duration_ms >= 2500, `duration ${body.duration_ms}`);
  });
});

// One request on a raw connection: status, lower-case headers, body (nginx closes after errors).
function rawRequest(text) {
  const { port } = new URL(env.base);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: "127.0.0.1", port: Number(port) });
    const chunks = [];
    sock.setTimeout(5000, () => sock.destroy(new Error("no answer within 5 s")));
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", reject);
    sock.on("close", () => {
      const raw = Buffer.concat(chunks).toString("latin1");
      const [head, ...rest] = raw.split("\r\n\r\n");
      const lines = head.split("\r\n");
      const headers = {};
      for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
      resolve({ status: Number(lines[0].split(" ")[1]), headers, body: rest.join("\r\n\r\n") });
    });
    sock.end(text);
  });
}

describe("nginx's own errors", () => {
  const big = "x".repeat(65537);
  // What each case sends, and whether its path is the API's (JSON) or the page's (HTML).
  const cases = [
    ["400 (no Host)", 400, (p) => `GET ${p} HTTP/1.1\r\n\r\n`],
    ["400 (header too large)", 400, (p) => `GET ${p} HTTP/1.1\r\nHost: t\r\nX-Big: ${"a".repeat(20000)}\r\n\r\n`],
    ["405 (TRACE)", 405, (p) => `TRACE ${p} HTTP/1.1\r\nHost: t\r\n\r\n`],
    ["413 (Content-Length one byte over 64 KiB)", 413, (p) => `POST ${p} HTTP/1.1\r\nHost: t\r\nContent-Length: ${big.length}\r\n\r\n${big}`],
    // On the page, nginx refuses the method (405) before it reads a chunked body.
    ["413 (chunked, one byte over 64 KiB)", 413, (p) => `PUT ${p} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`],
    ["414", 414, (p) => `GET ${p}/${"a".repeat(20000)} HTTP/1.1\r\nHost: t\r\n\r\n`],
    ["501 (unknown transfer coding)", 501, (p) => `POST ${p} HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`],
    ["505 (HTTP/2.0 on the plain port)", 505, (p) => `GET ${p} HTTP/2.0\r\nHost: t\r\n\r\n`],
  ];

  const pageStatus = { "413 (chunked, one byte over 64 KiB)": 405 };
  for (const [name, status, text] of cases) {
    test(`${name}: JSON with nginx's request id under /api and /health, HTML on the page`, async () => {
      for (const p of ["/api/users", "/health", "/health/live"]) {
        const rid = `e2e-err-${unique()}`;
        const res = await rawRequest(text(p).replace("\r\n", `\r\nX-Request-ID: ${rid}\r\n`));
        assert.equal(res.status, status, `${p}: ${res.body.slice(0, 80)}`);
        assert.match(res.headers["content-type"], /^application\/json/, `${p}: ${res.body.slice(0, 80)}`);
        const body = JSON.parse(res.body);
        assert.deepEqual(Object.keys(body).sort(), ["error", "request_id"], p);
        assert.equal(typeof body.error, "string");
        // The client's id when it reached nginx's header parsing, else nginx's own.
        assert.equal(body.request_id, res.headers["x-request-id"], p);
        assert.match(body.request_id, /^[A-Za-z0-9._-]{1,64}$/);
        assert.equal(res.headers["x-served-by"], undefined, `${p}: answered by nginx, not the backend`);
      }
      for (const p of ["/index.html", "/users/42"]) {
        const res = await rawRequest(text(p));
        assert.equal(res.status, pageStatus[name] ?? status, p);
        assert.match(res.headers["content-type"], /^text\/html/, p);
        assert.match(res.headers["x-request-id"] || "", /^[A-Za-z0-9._-]{1,64}$/);
      }
    });
  }

  test("a request id the client sent is the one in nginx's error", async () => {
    const res = await http(`${env.base}/api/users`, { method: "POST", body: "y".repeat(70000), headers: { "X-Request-ID": "e2e-413-id" } });
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { error: "request body exceeds 65536 bytes", request_id: "e2e-413-id" });
    assert.equal(res.headers.get("x-request-id"), "e2e-413-id");
    assertSecurityHeaders(res, "nginx's 413");
  });
});
