// Last file of the run: the backend is stopped (by its pid file). nginx must answer JSON errors,
// keep serving the page and /healthz, and the page must say the backend is unavailable; once
// the backend is back, the page recovers by itself.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { env, http, launch, openPage, ROOT, waitFor } from "./lib.mjs";

let browser;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the backend again the way scripts/stack.sh does (same ports, same database), with its
 * pid in the same pid file so that `stack.sh down` stops it at the end of the run.
 */
function startBackend() {
  const bin = process.env.BACKEND_BIN || path.join(ROOT, "backend/build/release/backend");
  const log = fs.openSync(path.join(env.stackDir, "logs/backend.log"), "a");
  const child = spawn(bin, [], {
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      ...process.env,
      DB_HOST: "127.0.0.1", DB_PORT: need("PG_PORT"), DB_USER: "app", DB_NAME: "webapp",
      REDIS_HOST: "127.0.0.1", REDIS_PORT: need("REDIS_PORT"),
      SERVER_PORT: need("SERVER_PORT"), BIND_ADDRESS: "127.0.0.1", SHUTDOWN_DRAIN_SECONDS: "0",
      POD_NAME: env.pod,
    },
  });
  fs.closeSync(log);
  child.unref();
  fs.writeFileSync(path.join(env.stackDir, "backend.pid"), `${child.pid}\n`);
}

function need(name) {
  assert.ok(process.env[name], `${name} is set by tests/e2e/run.sh`);
  return process.env[name];
}

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

describe("backend stopped", () => {
  test("stop the backend by its pid file", async () => {
    const pidFile = path.join(env.stackDir, "backend.pid");
    const pid = Number(fs.readFileSync(pidFile, "utf8").trim());
    assert.ok(pid > 1 && alive(pid), `backend pid ${pid} is running`);
    process.kill(pid, "SIGTERM");
    await waitFor(() => !alive(pid), { timeout: 20000, message: `backend pid ${pid} to exit` });
  });

  test("/api/ and /health answer nginx's JSON 502 with security headers and a request id", async () => {
    for (const [method, p] of [["GET", "/api/users"], ["POST", "/api/users"], ["GET", "/api/stress?ms=10"], ["GET", "/api/health"], ["GET", "/health"], ["GET", "/health/ready"]]) {
      const res = await http(`${env.base}${p}`, {
        method,
        headers: { "X-Request-ID": "e2e-down-1", "Content-Type": "application/json" },
        body: method === "POST" ? '{"name":"x","email":"x@example.com"}' : undefined,
      });
      assert.equal(res.status, 502, `${method} ${p}`);
      assert.match(res.headers.get("content-type"), /^application\/json/, `${method} ${p}`);
      assert.equal(res.headers.get("x-request-id"), "e2e-down-1");
      assert.equal(res.headers.get("x-content-type-options"), "nosniff");
      assert.match(res.headers.get("content-security-policy") || "", /default-src 'self'/);
      const body = await res.json();
      assert.deepEqual(body, { error: "backend unavailable", request_id: "e2e-down-1" });
    }
  });

  test("/healthz and the page itself still answer", async () => {
    const hz = await http(`${env.base}/healthz`);
    assert.equal(hz.status, 200);
    await hz.arrayBuffer();
    const index = await http(`${env.base}/`);
    assert.equal(index.status, 200);
    assert.match(await index.text(), /Autoscaling demo/);
  });

  test("the page says plainly that the backend is unavailable", async () => {
    const { page, context } = await openPage(browser);
    try {
      await page.goto(`${env.base}/`);
      await page.waitForSelector("#banner:not([hidden])", { timeout: 10000 });
      assert.match(await page.textContent("#banner"), /Backend unavailable\..*HTTP 502: backend unavailable \(request id [A-Za-z0-9._-]+\)/s);
      assert.equal(await page.getAttribute("#banner", "role"), "alert");
      assert.equal(await page.textContent("#status-overall"), "Backend down");
      assert.equal(await page.getAttribute("#status-db", "data-state"), "unknown");
      assert.match(await page.textContent("#users-meta"), /Could not load users: HTTP 502/);

      await page.click("#run-stress");
      await page.waitForSelector('#stress-result[data-kind="error"]');
      assert.match(await page.textContent("#stress-result"), /Stress test failed: HTTP 502: backend unavailable/);

      await page.fill("#user-name", "Nobody");
      await page.fill("#user-email", "nobody@example.com");
      await page.click("#create-user");
      await page.waitForFunction(() => /unavailable/.test(document.getElementById("user-form-message").textContent));
      assert.match(await page.textContent("#user-form-message"), /Not created: the backend is unavailable/);

      // The backend comes back (same stack, same ports): the page recovers on its own.
      startBackend();
      await page.waitForSelector("#banner[hidden]", { state: "attached", timeout: 15000 });
      await page.waitForSelector('#status-db[data-state="up"]', { timeout: 15000 });
      assert.equal(await page.textContent("#status-pod"), env.pod);
    } finally {
      await context.close();
    }
  });
});
