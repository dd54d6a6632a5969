// Shared helpers for the e2e tests. tests/e2e/run.sh starts the stack and sets the E2E_* variables.

import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { freePort } from "../lib/ports.mjs";
import { View } from "../lib/view.mjs";
import { startFakeKube } from "../lib/fake-kube-api.mjs";

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
  get view() { return need("E2E_VIEW_URL"); },
  get tmp() { return need("E2E_TMP"); },
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

/** A page in a context that lets axe-core's script in (the site's CSP forbids injected scripts). */
export async function openAxePage(browser, viewport) {
  const context = await browser.newContext({ viewport, bypassCSP: true });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  return { context, page, pageErrors };
}

/**
 * axe-core's WCAG 2.0/2.1 A and AA rules on the page as it is now: the violations, each as
 * "rule (impact): help -- targets" (an empty list is a pass).
 */
export async function axeViolations(page) {
  await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} -- ${v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary}`).join(" | ")}`,
  );
}

/**
 * scripts/frontend.sh with exactly the given stack settings (never the caller's), e.g. a
 * second nginx in front of the same backend and another autoscaler view.
 */
export function frontendSh(args, settings) {
  const r = spawnSync(path.join(ROOT, "scripts/frontend.sh"), args, {
    encoding: "utf8",
    env: { ...process.env, NGINX_WORKER_PROCESSES: "1", ...settings },
    timeout: 30000,
  });
  if (r.status !== 0) throw new Error(`frontend.sh ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r;
}

/**
 * The cluster chain for the autoscaler panel: the fake Kubernetes API server -> autoscaler-view
 * in cluster mode -> a second nginx (scripts/frontend.sh in its own STACK_DIR, the stack's real
 * backend behind it). Returns {kube, view, base, restartView(), stop()}.
 */
export async function clusterChain(name) {
  const dir = fs.mkdtempSync(path.join(env.tmp, `${name}-`));
  const kube = await startFakeKube({ dir });
  const port = await freePort();
  const nginx = { STACK_DIR: path.join(dir, "stack"), FRONTEND_PORT: String(port), BACKEND_URL: env.backend };
  const chain = {
    kube,
    view: null,
    base: `http://127.0.0.1:${port}`,
    // A view on a new port, and nginx (re)started to send /api/autoscaler to it.
    async restartView() {
      await chain.view?.stop();
      chain.view = await new View({
        dir, kube, env: { VIEW_POLL_MS: "500", VIEW_IDLE_SECONDS: "30", KUBE_TIMEOUT_MS: "1500" },
      }).start();
      nginx.AUTOSCALER_URL = chain.view.url;
      frontendSh(["start"], nginx);
    },
    async stop() {
      try {
        if (nginx.AUTOSCALER_URL) frontendSh(["stop"], nginx);
      } finally {
        await chain.view?.stop();
        await kube.stop();
      }
    },
  };
  await chain.restartView();
  return chain;
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
