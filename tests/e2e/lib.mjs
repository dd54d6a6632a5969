// Shared helpers for the e2e tests. tests/e2e/run.sh starts the stack and sets the E2E_* variables.

import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(ROOT, "package.json"));

function need(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the e2e tests through tests/e2e/run.sh`);
  return v;
}

export const env = {
  get base() { return need("E2E_BASE_URL"); },
  get backend() { return need("E2E_BACKEND_URL"); },
  get stackDir() { return need("E2E_STACK_DIR"); },
  get artifacts() { return process.env.E2E_ARTIFACTS || path.join(ROOT, "artifacts"); },
  get pod() { return need("E2E_POD_NAME"); },
};

export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--disable-quic",
];

export async function launch() {
  const { chromium } = require("playwright-core");
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    timeout: 30000,
  });
}

/**
 * A page that records what went wrong: uncaught exceptions, console errors, failed requests
 * and HTTP error responses. Tests then say which of those they expected.
 */
export async function openPage(browser, { width = 1440, height = 1000 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const seen = { pageErrors: [], consoleErrors: [], failedRequests: [], errorResponses: [] };
  page.on("pageerror", (e) => seen.pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") seen.consoleErrors.push({ text: m.text(), url: m.location().url || "" });
  });
  page.on("requestfailed", (r) => seen.failedRequests.push({ url: r.url(), error: r.failure()?.errorText || "" }));
  page.on("response", (r) => {
    if (r.status() >= 400) seen.errorResponses.push({ url: r.url(), status: r.status() });
  });
  const reset = () => {
    for (const k of Object.keys(seen)) seen[k].length = 0;
  };
  return { context, page, seen, reset };
}

/** Poll fn until it returns a truthy value; fail with `message` after `timeout` ms. */
export async function waitFor(fn, { timeout = 10000, interval = 100, message = "condition" } = {}) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeout} ms waiting for ${message} (last: ${last})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** fetch() with a timeout; an idempotent request is retried once on a connection closed under it. */
export async function http(url, init = {}) {
  const attempt = () => fetch(url, { ...init, signal: AbortSignal.timeout(init.timeout || 10000) });
  try {
    return await attempt();
  } catch (err) {
    // A pooled keep-alive connection that nginx closed just as it was reused (an old worker
    // after a reload closes its idle connections): retry an idempotent request once on a new
    // connection, as browsers do. Anything else is a real failure.
    const method = (init.method || "GET").toUpperCase();
    if (err?.cause?.code !== "UND_ERR_SOCKET" || !["GET", "HEAD"].includes(method)) throw err;
    return attempt();
  }
}

/** Sum of http_requests_total for a route, read from the backend's /metrics (not through nginx). */
export async function requestsTotal(route) {
  const res = await http(`${env.backend}/metrics`);
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const text = await res.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("http_requests_total{")) continue;
    if (!line.includes(`route="${route}"`)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Create a user directly on the backend; returns the created user (null: it existed). */
export async function createUser(name, email, { allowConflict = false } = {}) {
  const res = await http(`${env.backend}/api/users`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, email }),
  });
  if (res.status === 409 && allowConflict) {
    await res.arrayBuffer();
    return null;
  }
  if (res.status !== 201) throw new Error(`creating ${email}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

export const unique = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
