// The autoscaler panel in Chromium against real chains:
//   cluster: fake Kubernetes API server (tests/lib) -> autoscaler-view in cluster mode -> a second
//            nginx (scripts/frontend.sh, own STACK_DIR) -> the page, with the stack's real backend;
//   local:   the stack's nginx -> autoscaler-view in local mode (started by run.sh) -> the page.
// (axe-core on both chains: a11y.test.mjs.)

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { clusterChain, env, launch, openPage, waitFor } from "./lib.mjs";

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

const text = (page, sel) => page.textContent(sel).then((t) => t.replace(/\s+/g, " ").trim());

async function waitText(page, sel, re, timeout = 15000) {
  await page.waitForFunction(
    ([s, source, flags]) => new RegExp(source, flags).test(document.querySelector(s)?.textContent.replace(/\s+/g, " ") ?? ""),
    [sel, re.source, re.flags],
    { timeout },
  );
  return text(page, sel);
}

describe("autoscaler panel, cluster mode (fake Kubernetes API -> autoscaler-view -> nginx -> page)", () => {
  let chain;
  let kube;
  let base;
  let tab;

  before(async () => {
    chain = await clusterChain("cluster");
    kube = chain.kube;
    base = chain.base;
    fs.mkdirSync(env.artifacts, { recursive: true });
  });

  after(async () => {
    await tab?.context.close();
    await chain?.stop();
  });

  test("the HPA's replicas, pods and conditions appear; desired above current reads 'scaling up'", async () => {
    kube.setState({ replicas: 2, desired: 6, utilization: 540 });
    tab = await openPage(browser, DESKTOP);
    const { page } = tab;
    await page.goto(`${base}/`);
    await waitText(page, "#hpa-current", /^2$/);
    assert.equal(await text(page, "#hpa-desired"), "6");
    assert.equal(await text(page, "#hpa-min"), "2");
    assert.equal(await text(page, "#hpa-max"), "10");
    assert.equal(await text(page, "#hpa-word"), "scaling up");
    assert.equal(await page.getAttribute("#autoscaler", "data-state"), "ok");
    assert.equal(await page.isHidden("#hpa-note"), true, "no state note when everything reads fine");
    assert.match(await text(page, "#hpa-meta"), /Cluster · namespace webapp · read (just now|\d+s ago)/);
    assert.match(await text(page, "#hpa-metric-text"), /CPU: 540% of the request on average · target 200% · 1350m per pod/);

    const pods = await page.$$eval("#pods-body tr", (rows) =>
      rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent.trim())));
    assert.deepEqual(pods.map((p) => p[0]), [kube.podName(0), kube.podName(1)]);
    for (const p of pods) {
      assert.equal(p[1], "ready");
      assert.equal(p[2], "Running");
      assert.equal(p[3], "webapp-cluster-worker");
      assert.match(p[4], /^\d+m \d+s$/, "age");
      assert.match(p[6], /^1350m \/ 250m \(540%\)$/, "CPU against the request");
    }
    assert.deepEqual(pods.map((p) => p[5]), ["1", "0"], "restarts");
    assert.match(await text(page, "#pods-count"), /2 of 2 ready/);

    const conditions = await page.$$eval("#hpa-conditions li", (lis) => lis.map((li) => li.textContent.replace(/\s+/g, " ").trim()));
    assert.equal(conditions.length, 3);
    assert.match(conditions[0], /^AbleToScale True · SucceededRescale ?the HPA controller was able to update the target scale to 6$/);
    assert.match(conditions[1], /^ScalingActive True · ValidMetricFound/);
    assert.match(conditions[2], /^ScalingLimited False · DesiredWithinRange/);
    assert.match(await text(page, "#hpa-last-scale"), /never scaled/);
  });

  test("the explanation uses the live numbers, and so does the expected replica count", async () => {
    const { page } = tab;
    const math = await text(page, "#hpa-math");
    assert.match(math, /^2 pods × 540% ÷ 200% = 5\.4 → 6\. /);
    assert.match(math, /within min 2 and max 10, so no clamping/);
    assert.match(math, /policies in the HPA's behavior \(\+100% per 15 s or \+4 pods per 15 s, whichever is larger\) allow this in one step/);
    assert.match(math, /Desired: 6 replicas, as the HPA reports\./);

    // The HPA's target changes live: the sentence and the expected count follow.
    kube.setState({ targetUtilization: 100, maxReplicas: 8 });
    await waitText(page, "#hpa-math", /^2 pods × 540% ÷ 100% = 10\.8 → 11\. That is above the maximum of 8: clamped to 8\./);
    await page.$eval("#concurrency", (el) => {
      el.value = "3";
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    const expected = await waitText(page, "#expected-replicas", /250m request × 100% target/);
    assert.match(expected, /^Expected with 3 workers: about 8 replicas: 3 × 1000m ÷ 250m per pod \(250m request × 100% target\) = 12, capped at the maximum of 8; live target, min\/max, CPU request from the cluster\.$/);
    kube.setState({ targetUtilization: 200, maxReplicas: 10 });
    await waitText(page, "#hpa-math", /÷ 200% = 5\.4 → 6/);
  });

  test("the chart's replica line moves from 2 to 6 when the HPA scales", async () => {
    const { page } = tab;
    await page.waitForFunction(() => document.getElementById("chart").dataset.replicasCurrent === "2", null, { timeout: 10000 });
    await page.waitForTimeout(3000); // a few seconds at 2 replicas on the chart
    kube.scaleUp(6);
    await page.waitForFunction(() => document.getElementById("chart").dataset.replicasCurrent === "6", null, { timeout: 15000 });
    await waitText(page, "#hpa-word", /^steady$/);
    await page.waitForTimeout(2500);

    const steps = JSON.parse(await page.getAttribute("#chart", "data-replica-steps"));
    const two = steps.find((s) => s.current === 2);
    const six = steps.find((s) => s.current === 6);
    assert.ok(two && six, `steps at 2 and at 6: ${JSON.stringify(steps)}`);
    assert.ok(two.ago > six.ago, "2 came before 6");
    assert.ok(six.y < two.y - 10, `the line went up on the canvas (y ${two.y} -> ${six.y})`);
    // The violet of the current-replica line is really drawn at the height of 6, near "now".
    const violet = await page.$eval("#chart", (canvas, y) => {
      const dpr = window.devicePixelRatio || 1;
      const ctx = canvas.getContext("2d");
      const x0 = Math.floor(canvas.width * 0.6);
      const rows = ctx.getImageData(x0, Math.round((y - 3) * dpr), canvas.width - x0, Math.round(6 * dpr)).data;
      let n = 0;
      for (let i = 0; i < rows.length; i += 4) {
        const [r, g, b] = [rows[i], rows[i + 1], rows[i + 2]];
        if (r > 150 && b > 200 && g < 180 && g > 110) n++; // #b794f6
      }
      return n;
    }, six.y);
    assert.ok(violet > 20, `replica line pixels at y=${six.y}: ${violet}`);
    assert.match(await page.textContent("#chart-summary"), /Replicas: .*6 now \(desired 6\), between 2 and 6\./);

    const events = await page.$$eval("#events-list li", (lis) => lis.map((li) => li.textContent.replace(/\s+/g, " ").trim()));
    assert.equal(events.length, 1);
    assert.match(events[0], /^(just now|\d+s ago) · SuccessfulRescale ?New size: 6; reason: cpu resource utilization \(percentage of request\) above target$/);
    assert.match(await text(page, "#hpa-last-scale"), /last scaled (just now|\d+s ago) \(/);
    assert.equal(await page.$$eval("#pods-body tr", (r) => r.length), 6);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(env.artifacts, "autoscaler-cluster.png"), fullPage: true });
  });

  test("polls only while the page is visible", async () => {
    const { page } = tab;
    let calls = 0;
    const count = (r) => {
      if (r.url().endsWith("/api/autoscaler")) calls++;
    };
    page.on("request", count);
    try {
      const setVisibility = (state) => page.evaluate((s) => {
        Object.defineProperty(document, "visibilityState", { value: s, configurable: true });
        document.dispatchEvent(new Event("visibilitychange"));
      }, state);
      await page.waitForTimeout(4500);
      assert.ok(calls >= 2 && calls <= 4, `about one request every 2 s while visible (${calls} in 4.5 s)`);
      await setVisibility("hidden");
      await page.waitForTimeout(500); // a request already on its way may finish
      calls = 0;
      await page.waitForTimeout(5000);
      assert.equal(calls, 0, "no request while hidden");
      await setVisibility("visible");
      await page.waitForTimeout(500);
      assert.ok(calls >= 1, "polls again at once when visible");
    } finally {
      page.off("request", count);
    }
  });

  test("403: the panel explains which permission is missing and marks the data stale", async () => {
    const { page } = tab;
    kube.respond("hpa", { status: 403 });
    const note = await waitText(page, "#hpa-note", /Forbidden \(403\)/);
    assert.match(note, /Stale HPA data: Forbidden \(403\): the ServiceAccount may not get horizontalpodautoscalers\.autoscaling in webapp \(403\)\./);
    assert.equal(await page.getAttribute("#autoscaler", "data-state"), "stale");
    assert.equal(await text(page, "#hpa-current"), "6", "the last good numbers stay");
    await page.locator("#autoscaler").screenshot({ path: path.join(env.artifacts, "autoscaler-forbidden.png") });
    kube.respond("hpa", null);
    await page.waitForSelector("#autoscaler[data-state='ok']", { timeout: 10000 });
    assert.equal(await page.isHidden("#hpa-note"), true);
  });

  test("metrics API missing: metrics-server is not installed, the pods show no CPU", async () => {
    const { page } = tab;
    kube.respond("metrics", { status: 404 });
    const note = await waitText(page, "#metrics-note", /metrics-server is not installed/);
    assert.match(note, /^The metrics API is missing: metrics-server is not installed, so the HPA has no CPU to act on and the pods show no CPU\./);
    await page.waitForFunction(() => [...document.querySelectorAll("#pods-body .pod-cpu")].every((td) => td.textContent.trim().startsWith("–")), null, { timeout: 10000 });
    kube.respond("metrics", null);
    await page.waitForSelector("#metrics-note", { state: "hidden", timeout: 10000 });
  });

  test("the Kubernetes API unreachable and the view itself down are explained states", async () => {
    const { page } = tab;
    await kube.down();
    await waitText(page, "#hpa-note", /The Kubernetes API cannot be reached/);
    await kube.up();
    await page.waitForSelector("#autoscaler[data-state='ok']", { timeout: 15000 });

    await chain.view.stop();
    const note = await waitText(page, "#hpa-note", /The autoscaler view is not running\./);
    assert.match(note, /^Stale: showing what was read \d+s ago\. The autoscaler view is not running\. nginx answered HTTP 503 for \/api\/autoscaler \(autoscaler view unavailable: the autoscaler-view component does not answer\)/);
    assert.equal(await page.getAttribute("#autoscaler", "data-state"), "stale");
    assert.equal(await page.isHidden("#banner"), true, "the backend's banner is not raised for the view");
    await page.locator("#autoscaler").screenshot({ path: path.join(env.artifacts, "autoscaler-view-down.png") });
    // Everything else in the page was fine: only the view's 503s failed.
    assert.deepEqual(tab.seen.pageErrors, []);
    for (const r of tab.seen.errorResponses) assert.match(`${r.status} ${r.url}`, /^503 .*\/api\/autoscaler$/);

    // A page opened while the view is down says so instead of showing a blank panel.
    const other = await openPage(browser, PHONE);
    try {
      await other.page.goto(`${base}/`);
      const first = await waitText(other.page, "#hpa-note", /not running/);
      assert.match(first, /^The autoscaler view is not running\. nginx answered HTTP 503/);
      assert.equal(await text(other.page, "#hpa-word"), "no data");
    } finally {
      await other.context.close();
    }

    // Back: the panel fills again by itself.
    await chain.restartView();
    await page.waitForSelector("#autoscaler[data-state='ok']", { timeout: 15000 });
  });
});

describe("autoscaler panel, local mode (the stack's nginx -> autoscaler-view -> the local backend)", () => {
  test("one replica, the local process's CPU and the hint to run `task setup`", async () => {
    const { context, page, seen } = await openPage(browser, DESKTOP);
    try {
      await page.goto(`${env.base}/`);
      await page.waitForSelector("#autoscaler[data-mode='local']", { timeout: 15000 });
      // The view reads once somebody watches: the first answer may still be "starting".
      await page.waitForSelector("#pods-body tr", { timeout: 15000 });
      assert.equal(await text(page, "#hpa-current"), "1");
      assert.equal(await text(page, "#hpa-desired"), "1");
      assert.equal(await text(page, "#hpa-word"), "steady");
      assert.match(await text(page, "#hpa-hint"), /task setup/);
      assert.match(await text(page, "#hpa-meta"), /^Local mode/);
      assert.deepEqual(await page.$$eval("#pods-body tr", (rows) => rows.map((r) => r.dataset.pod)), [env.pod]);
      await page.waitForFunction(() => /^CPU of the local process: \d+m/.test(document.getElementById("hpa-metric-text").textContent), null, { timeout: 15000 });
      assert.match(await text(page, "#hpa-math"), /^Local mode: one process and no autoscaler/);
      assert.match(await text(page, "#events-empty"), /No scaling events in local mode/);
      assert.match(await text(page, "#expected-replicas"), /^Here one local process takes it all \(no autoscaler\)\. On the cluster, 4 workers would settle on about 8 replicas/);
      await waitFor(() => page.getAttribute("#chart", "data-replicas-current").then((v) => v === "1"), { message: "1 replica on the chart" });
      assert.deepEqual(seen.pageErrors, []);
      assert.deepEqual(seen.errorResponses, []);
      assert.deepEqual(seen.consoleErrors, []);
    } finally {
      await context.close();
    }
  });
});
