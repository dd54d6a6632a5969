// axe-core (rules tagged wcag2a, wcag2aa, wcag21a, wcag21aa) on the whole page at a desktop and a
// phone viewport: in local mode (the stack's nginx and local-mode autoscaler view) and with the
// autoscaler panel filled in cluster mode (fake Kubernetes API -> autoscaler-view -> nginx).
// Any violation fails. Screenshots: artifacts/a11y-{local,cluster}-{desktop,phone}.png.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { axeViolations, clusterChain, env, launch, openAxePage } from "./lib.mjs";

const VIEWPORTS = [["desktop", { width: 1280, height: 800 }], ["phone", { width: 390, height: 844 }]];

let browser;

before(async () => {
  browser = await launch();
  fs.mkdirSync(env.artifacts, { recursive: true });
});

after(async () => {
  await browser?.close();
});

async function check(viewport, url, ready, name) {
  const { context, page, pageErrors } = await openAxePage(browser, viewport);
  try {
    await page.goto(url);
    await ready(page);
    const violations = await axeViolations(page);
    await page.screenshot({ path: path.join(env.artifacts, `${name}.png`), fullPage: true });
    assert.deepEqual(violations, [], `axe at ${viewport.width}x${viewport.height}`);
    assert.deepEqual(pageErrors, []);
  } finally {
    await context.close();
  }
}

describe("accessibility, local mode", () => {
  for (const [name, viewport] of VIEWPORTS) {
    test(`no WCAG 2.1 A/AA violation (${name})`, async () => {
      await check(viewport, `${env.base}/`, async (page) => {
        await page.waitForSelector("#pods-body tr", { timeout: 15000 });
        await page.waitForSelector('#status-db[data-state="up"]', { timeout: 10000 });
      }, `a11y-local-${name}`);
    });
  }
});

describe("accessibility, cluster mode with the autoscaler panel filled", () => {
  let chain;

  before(async () => {
    chain = await clusterChain("a11y");
    chain.kube.scaleUp(4, { utilization: 330 });
    chain.kube.setState({ desired: 6 });
  });

  after(async () => {
    await chain?.stop();
  });

  for (const [name, viewport] of VIEWPORTS) {
    test(`no WCAG 2.1 A/AA violation (${name})`, async () => {
      await check(viewport, `${chain.base}/`, async (page) => {
        await page.waitForFunction(() => document.getElementById("hpa-word").textContent === "scaling up", null, { timeout: 15000 });
        await page.waitForSelector("#events-list li");
        await page.waitForSelector('#status-db[data-state="up"]', { timeout: 10000 });
      }, `a11y-cluster-${name}`);
    });
  }

  test("no WCAG 2.1 A/AA violation with stale data and explained states (desktop)", async () => {
    chain.kube.respond("hpa", { status: 403 });
    chain.kube.respond("metrics", { status: 404 });
    try {
      await check(VIEWPORTS[0][1], `${chain.base}/`, async (page) => {
        await page.waitForSelector("#autoscaler[data-state='stale']", { timeout: 15000 });
        await page.waitForSelector("#metrics-note:not([hidden])", { timeout: 15000 });
      }, "a11y-cluster-stale-desktop");
    } finally {
      chain.kube.respond("hpa", null);
      chain.kube.respond("metrics", null);
    }
  });
});
