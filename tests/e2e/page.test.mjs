// The page in Chromium against the real stack: status bar, users, stress test, sustained load.

import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { createUser, env, http, launch, openPage, requestsTotal, unique, waitFor } from "./lib.mjs";

let browser;
let tab; // {page, seen, reset}
const expectedErrors = []; // [status, url pattern] of the errors the tests provoke on purpose

const SEED_USERS = [
  ["Ada Lovelace", "ada@example.com"],
  ["Grace Hopper", "grace@example.com"],
  ["Alan Turing", "alan@example.com"],
  ["Katherine Johnson", "katherine@example.com"],
  ["Edsger Dijkstra", "edsger@example.com"],
  ["Barbara Liskov", "barbara@example.com"],
];

before(async () => {
  browser = await launch();
  tab = await openPage(browser);
});

after(async () => {
  await browser?.close();
});

async function backendJson(p, init) {
  const res = await http(`${env.backend}${p}`, init);
  return { status: res.status, body: res.status === 204 ? null : await res.json() };
}

async function topUserId() {
  const { body } = await backendJson("/api/users?limit=1");
  return body.length ? body[0].id : 0;
}

async function tableIds(page) {
  return page.$$eval("#users-body tr", (rows) => rows.map((r) => Number(r.dataset.id)));
}

/** Whatever went wrong in the page must be one of the errors the tests provoked on purpose. */
function assertOnlyExpectedProblems(seen) {
  assert.deepEqual(seen.pageErrors, [], "uncaught exceptions in the page");
  const allowed = (status, url) => expectedErrors.some(([s, re]) => s === status && re.test(url));
  for (const r of seen.errorResponses) {
    assert.ok(allowed(r.status, r.url), `unexpected HTTP ${r.status} for ${r.url}`);
  }
  for (const c of seen.consoleErrors) {
    const m = c.text.match(/status of (\d{3})/);
    assert.ok(m && allowed(Number(m[1]), c.url), `unexpected console error: ${c.text} (${c.url})`);
  }
  for (const f of seen.failedRequests) {
    // Only the stress requests that "Stop load" aborted may fail.
    assert.ok(/\/api\/stress\?/.test(f.url) && /ERR_ABORTED/.test(f.error), `failed request ${f.url}: ${f.error}`);
  }
}

describe("page", () => {
  test("loads with no console errors or failed requests; the status bar shows database and cache up", async () => {
    const { page, seen } = tab;
    // A few users, so that the table (and the screenshot) shows something real.
    for (const [name, email] of SEED_USERS) await createUser(name, email, { allowConflict: true });
    await page.goto(`${env.base}/`, { waitUntil: "load" });
    await page.waitForSelector('#status-db[data-state="up"]', { timeout: 10000 });
    await page.waitForSelector('#status-cache[data-state="up"]', { timeout: 10000 });
    assert.equal(await page.textContent("#status-overall"), "Healthy");
    assert.equal(await page.textContent("#status-pod"), env.pod);
    const version = (await page.textContent("#status-version")).trim();
    const health = (await backendJson("/api/health")).body;
    assert.equal(version, String(health.version));
    await page.waitForFunction(() => document.getElementById("users-count").textContent.includes("shown"));
    assert.equal(await page.isHidden("#banner"), true, "no error banner");
    // Give late requests (status poll, module loads) a moment, then nothing may have failed.
    await page.waitForTimeout(500);
    assert.deepEqual(seen.pageErrors, []);
    assert.deepEqual(seen.consoleErrors, []);
    assert.deepEqual(seen.failedRequests, []);
    assert.deepEqual(seen.errorResponses, []);
  });

  test("every control has an accessible name", async () => {
    const unnamed = await tab.page.$$eval("input, button, select, textarea, output, canvas", (els) =>
      els
        .filter((el) => {
          if (el.closest("[hidden]")) return false;
          const label = el.id && document.querySelector(`label[for="${el.id}"]`);
          const named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || label || el.textContent.trim();
          return !named && el.tagName !== "OUTPUT";
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);
  });

  test("Run stress test shows the pod that served it and at least the requested burn", async () => {
    const { page } = tab;
    await page.fill("#burn-ms", "300");
    await page.click("#run-stress");
    await page.waitForSelector('#stress-result[data-kind="ok"]', { timeout: 15000 });
    const duration = Number(await page.getAttribute("#stress-result", "data-duration-ms"));
    assert.ok(duration >= 300, `duration_ms ${duration} >= 300`);
    assert.equal(await page.getAttribute("#stress-result", "data-served-by"), env.pod);
    const text = await page.textContent("#stress-result");
    assert.match(text, new RegExp(`served by ${env.pod}`));
    assert.match(text, /\d+ ms on the server \(\d+ ms CPU\)/);
  });

  test("sustained load shows live numbers, chart and served-by; Stop load stops the requests", async () => {
    const { page } = tab;
    expectedErrors.push([429, /\/api\/stress\?/]); // more workers than stress slots: counted, not hidden
    // Settings from the keyboard: 3 workers, 100 ms each.
    await page.fill("#burn-ms", "100");
    await page.focus("#concurrency");
    await page.keyboard.press("Home");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    assert.equal(await page.textContent("#concurrency-value"), "3");

    const before = await requestsTotal("/api/stress");
    await page.click("#start-load");
    assert.equal(await page.isDisabled("#start-load"), true);
    assert.equal(await page.isEnabled("#stop-load"), true);
    assert.match(await page.textContent("#load-state"), /Load running · 3 × 100 ms/);

    await page.waitForFunction(() => Number(document.getElementById("tile-rps").textContent) > 0, null, { timeout: 10000 });
    await page.waitForFunction(() => /\d+ ms/.test(document.getElementById("tile-p50").textContent), null, { timeout: 10000 });
    await page.waitForSelector(`#served-list li[data-pod="${env.pod}"]`, { timeout: 10000 });
    await page.waitForTimeout(4000); // a few seconds of load: the screenshot shows a real chart
    const served = Number(await page.textContent(`#served-list li[data-pod="${env.pod}"] .served-count`));
    assert.ok(served > 5, `served-by count ${served}`);
    assert.match(await page.textContent("#load-info"), /stops by itself in 4:[0-5]\d/);

    // The chart drew request bars in its right-hand (recent) part.
    const barPixels = await page.$eval("#chart", (canvas) => {
      const ctx = canvas.getContext("2d");
      const x0 = Math.floor(canvas.width * 0.8);
      const data = ctx.getImageData(x0, 0, canvas.width - x0, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const [r, g, b, a] = [data[i], data[i + 1], data[i + 2], data[i + 3]];
        if (a > 100 && b > 180 && r < 150) n++; // the blue of the requests bars
      }
      return n;
    });
    assert.ok(barPixels > 100, `request bars drawn (${barPixels} px)`);
    const live = await page.evaluate(() => window.autoscalingDemo.timeline.series(Date.now()).slice(-8).reduce((n, s) => n + s.count, 0));
    assert.ok(live > 5, `responses in the last 8 s of the chart: ${live}`);

    fs.mkdirSync(env.artifacts, { recursive: true });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(env.artifacts, "frontend-load.png"), fullPage: true });

    const during = await requestsTotal("/api/stress");
    assert.ok(during - before >= 5, `the backend served the load (${during - before} stress requests)`);

    await page.click("#stop-load");
    assert.equal(await page.isEnabled("#start-load"), true);
    assert.equal(await page.isDisabled("#stop-load"), true);
    assert.equal(await page.textContent("#load-state"), "Idle");
    // Requests aborted on Stop may still finish their burn on the server (100 ms); after that,
    // the server sees nothing more.
    await page.waitForTimeout(1000);
    const settled = await requestsTotal("/api/stress");
    await page.waitForTimeout(2500);
    const later = await requestsTotal("/api/stress");
    assert.equal(later, settled, `no stress request reached the server after Stop (${settled} -> ${later})`);
    assert.equal(await page.evaluate(() => window.autoscalingDemo.generator.inFlight), 0);
  });

  test("load stops by itself at its time limit", async () => {
    const { page } = tab;
    // The same generator the buttons use, with a 1.5 s limit instead of 5 minutes.
    await page.evaluate(() => window.autoscalingDemo.generator.start({ concurrency: 1, burnMs: 20, maxMs: 1500 }));
    assert.equal(await page.isDisabled("#start-load"), true);
    await page.waitForFunction(() => !window.autoscalingDemo.generator.running, null, { timeout: 5000 });
    assert.equal(await page.isEnabled("#start-load"), true);
    assert.match(await page.textContent("#load-info"), /time limit reached/);
    const settled = await waitFor(async () => {
      const a = await requestsTotal("/api/stress");
      await new Promise((r) => setTimeout(r, 500));
      return (await requestsTotal("/api/stress")) === a ? a : 0;
    }, { timeout: 5000, message: "the stress count to settle" });
    assert.ok(settled > 0);
  });

  test("creating a user (keyboard only) puts it at the top of the table", async () => {
    const { page } = tab;
    const email = `margaret-${unique()}@example.com`;
    await page.focus("#user-name");
    await page.keyboard.type("Margaret Hamilton");
    await page.keyboard.press("Tab");
    await page.keyboard.type(email);
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      (e) => document.querySelector("#users-body tr .col-email")?.textContent === e,
      email,
      { timeout: 10000 },
    );
    const first = await page.$eval("#users-body tr", (tr) => ({
      id: Number(tr.dataset.id),
      name: tr.querySelector(".col-name").textContent,
      created: tr.querySelector("time").getAttribute("datetime"),
    }));
    assert.equal(first.name, "Margaret Hamilton");
    assert.equal(first.id, await topUserId(), "the newest user in the database");
    assert.ok(!Number.isNaN(Date.parse(first.created)));
    assert.match(await page.textContent("#user-form-message"), new RegExp(`Created user #${first.id} · served by ${env.pod}`));
    assert.equal(await page.inputValue("#user-email"), "", "form cleared");
    tab.createdEmail = email;
    tab.createdId = first.id;
  });

  test("an invalid email shows the API's message next to the email field and creates nothing", async () => {
    const { page } = tab;
    expectedErrors.push([400, /\/api\/users$/]);
    const before = await topUserId();
    const rowsBefore = (await tableIds(page)).length;
    const expected = await backendJson("/api/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Bad Email", email: "not-an-email" }),
    });
    assert.equal(expected.status, 400);
    assert.equal(expected.body.field, "email");

    await page.fill("#user-name", "Bad Email");
    await page.fill("#user-email", "not-an-email");
    await page.click("#create-user");
    await page.waitForFunction(() => document.getElementById("user-email-error").textContent !== "", null, { timeout: 10000 });
    assert.equal(await page.textContent("#user-email-error"), expected.body.error);
    assert.equal(await page.getAttribute("#user-email", "aria-invalid"), "true");
    assert.equal(await page.textContent("#user-name-error"), "");
    assert.equal(await topUserId(), before, "nothing created");
    assert.equal((await tableIds(page)).length, rowsBefore, "no row added");

    // A blank name is reported on the name field.
    await page.fill("#user-name", "   ");
    await page.fill("#user-email", `blank-${unique()}@example.com`);
    await page.click("#create-user");
    await page.waitForFunction(() => document.getElementById("user-name-error").textContent !== "", null, { timeout: 10000 });
    assert.equal(await page.getAttribute("#user-name", "aria-invalid"), "true");
    assert.equal(await page.textContent("#user-email-error"), "", "email error cleared on resubmit");
    assert.equal(await topUserId(), before, "nothing created");
  });

  test("a duplicate email (in other letter case) shows the conflict", async () => {
    const { page } = tab;
    expectedErrors.push([409, /\/api\/users$/]);
    const before = await topUserId();
    const dup = tab.createdEmail.toUpperCase();
    const expected = await backendJson("/api/users", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: "Someone Else", email: dup }),
    });
    assert.equal(expected.status, 409);

    await page.fill("#user-name", "Someone Else");
    await page.fill("#user-email", dup);
    await page.click("#create-user");
    await page.waitForFunction(() => document.getElementById("user-email-error").textContent !== "", null, { timeout: 10000 });
    assert.equal(await page.textContent("#user-email-error"), expected.body.error);
    assert.match(await page.textContent("#user-form-message"), /409/);
    assert.equal(await topUserId(), before, "nothing created");
  });

  test("delete asks for confirmation: Escape keeps the row, Delete removes it", async () => {
    const { page } = tab;
    const id = tab.createdId;
    const row = `#users-body tr[data-id="${id}"]`;
    await page.click(`${row} button[data-delete]`);
    await page.waitForSelector("#confirm-dialog[open]");
    assert.match(await page.textContent("#confirm-text"), new RegExp(tab.createdEmail.replace(/[.+]/g, "\\$&")));
    await page.keyboard.press("Escape");
    await page.waitForFunction(() => !document.getElementById("confirm-dialog").open);
    assert.equal(await page.isVisible(row), true, "cancelled: row kept");
    assert.equal((await backendJson(`/api/users/${id}`)).status, 200);

    await page.click(`${row} button[data-delete]`);
    await page.waitForSelector("#confirm-dialog[open]");
    await page.click("#confirm-delete");
    await page.waitForSelector(row, { state: "detached", timeout: 10000 });
    assert.equal((await backendJson(`/api/users/${id}`)).status, 404, "deleted in the database");
    assert.match(await page.textContent("#user-form-message"), new RegExp(`Deleted user #${id}`));
  });

  test("Load more follows the Link header and appends the next pages without duplicates", async () => {
    const { page } = tab;
    const tag = unique();
    for (let i = 0; i < 23; i++) await createUser(`Page User ${i}`, `page-${tag}-${i}@example.com`);
    await page.click("#refresh-users");
    await page.waitForFunction(() => document.querySelectorAll("#users-body tr").length === 10, null, { timeout: 10000 });
    const firstPage = await tableIds(page);
    await page.click("#load-more");
    await page.waitForFunction(() => document.querySelectorAll("#users-body tr").length === 20, null, { timeout: 10000 });
    const twoPages = await tableIds(page);
    assert.deepEqual(twoPages.slice(0, 10), firstPage, "the first page stays in place");
    for (let i = 0; i < 50 && (await page.isVisible("#load-more")); i++) {
      const n = (await tableIds(page)).length;
      await page.click("#load-more");
      await page.waitForFunction(
        (count) => document.querySelectorAll("#users-body tr").length > count || document.getElementById("load-more").hidden,
        n,
        { timeout: 10000 },
      );
    }
    assert.equal(await page.isHidden("#load-more"), true, "Load more disappears at the end");
    const ids = await tableIds(page);
    assert.equal(new Set(ids).size, ids.length, "no duplicates");
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i] < ids[i - 1], "newest first");
    const all = (await backendJson("/api/users?limit=500")).body.map((u) => u.id);
    assert.deepEqual(ids, all, "the table holds exactly the users in the database");
  });

  test("nothing failed in the page except the errors provoked above", () => {
    assertOnlyExpectedProblems(tab.seen);
  });

  test("the layout holds on a phone-width screen", async () => {
    const phone = await openPage(browser, { width: 375, height: 800 });
    try {
      await phone.page.goto(`${env.base}/`);
      await phone.page.waitForSelector('#status-db[data-state="up"]', { timeout: 10000 });
      await phone.page.waitForFunction(() => document.querySelectorAll("#users-body tr").length > 0, null, { timeout: 10000 });
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `page wider than the screen by ${overflow}px`);
      for (const id of ["#start-load", "#run-stress", "#create-user", "#user-email", "#chart"]) {
        const box = await phone.page.$eval(id, (el) => {
          const r = el.getBoundingClientRect();
          return { left: r.left, right: r.right };
        });
        assert.ok(box.left >= 0 && box.right <= 375, `${id} inside the screen (${JSON.stringify(box)})`);
      }
      await phone.page.screenshot({ path: path.join(env.artifacts, "frontend-phone.png"), fullPage: true });
      assertOnlyExpectedProblems(phone.seen);
    } finally {
      await phone.context.close();
    }
  });
});
