// Redis, then PostgreSQL, stopped and started again under a page that stays open: the status
// bar must say what is down (cache: degraded, amber; database: down, with a banner) and recover
// by itself. The servers are stopped and started with scripts/lib.sh, as the stack does.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { env, launch, openPage, ROOT, waitFor } from "./lib.mjs";

let browser;
let tab;

/** Run a scripts/lib.sh function, e.g. lib("redis_stop", "$STACK_DIR/redis"). */
function lib(...args) {
  const script = `source "${path.join(ROOT, "scripts/lib.sh")}" && "$@"`;
  const r = spawnSync("bash", ["-c", script, "lib", ...args], { encoding: "utf8", timeout: 90000 });
  assert.equal(r.status, 0, `${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

function port(name) {
  assert.ok(process.env[name], `${name} is set by tests/e2e/run.sh`);
  return process.env[name];
}

/** Ask the page to poll /api/health now instead of waiting up to 5 s. */
async function refresh(page) {
  await page.evaluate(() => window.autoscalingDemo.refreshStatus());
}

/** Poll /api/health from the page until badge `id` is in `state`. */
async function waitForBadge(page, id, state, timeout) {
  await waitFor(async () => {
    await refresh(page);
    return (await badge(page, id)).state === state;
  }, { timeout, interval: 500, message: `${id} to be ${state}` });
}

async function badge(page, id) {
  return page.$eval(id, (el) => ({ state: el.dataset.state, text: el.textContent.trim() }));
}

before(async () => {
  browser = await launch();
  tab = await openPage(browser);
  await tab.page.goto(`${env.base}/`);
  await tab.page.waitForSelector('#status-db[data-state="up"]');
  await tab.page.waitForSelector('#status-cache[data-state="up"]');
});

after(async () => {
  await browser?.close();
});

describe("dependencies down", () => {
  test("Redis stopped: the cache badge says down (amber), the service is degraded, no error banner", async () => {
    const { page } = tab;
    lib("redis_stop", path.join(env.stackDir, "redis"));
    await waitForBadge(page, "#status-cache", "degraded", 15000);
    assert.deepEqual(await badge(page, "#status-cache"), { state: "degraded", text: "Cache down" });
    assert.deepEqual(await badge(page, "#status-db"), { state: "up", text: "Database up" });
    assert.deepEqual(await badge(page, "#status-overall"), { state: "degraded", text: "Degraded" });
    assert.equal(await page.isHidden("#banner"), true, "reads still work: no banner");
    // Users still load (from PostgreSQL).
    await page.click("#refresh-users");
    await page.waitForFunction(() => /served by/.test(document.getElementById("users-meta").textContent));
  });

  test("Redis back: the cache badge turns up again without reloading the page", async () => {
    const { page } = tab;
    lib("redis_start", path.join(env.stackDir, "redis"), port("REDIS_PORT"));
    await waitForBadge(page, "#status-cache", "up", 15000);
    assert.deepEqual(await badge(page, "#status-overall"), { state: "healthy", text: "Healthy" });
  });

  test("PostgreSQL stopped: the database badge says down and a banner explains it", async () => {
    const { page } = tab;
    lib("pg_stop", path.join(env.stackDir, "pg"), "fast");
    await waitForBadge(page, "#status-db", "down", 20000);
    assert.deepEqual(await badge(page, "#status-db"), { state: "down", text: "Database down" });
    assert.equal((await badge(page, "#status-overall")).state, "down");
    assert.equal(await page.isVisible("#banner"), true);
    assert.match(await page.textContent("#banner"), /Database unavailable\..*HTTP 503/s);
    // The pod still answers (it is the database that is down, not the backend).
    assert.equal(await page.textContent("#status-pod"), env.pod);
  });

  test("PostgreSQL back: the page recovers by itself", async () => {
    const { page } = tab;
    lib("pg_start", path.join(env.stackDir, "pg"), port("PG_PORT"));
    await waitForBadge(page, "#status-db", "up", 20000);
    await refresh(page);
    assert.equal(await page.isHidden("#banner"), true, "banner gone");
    assert.deepEqual(await badge(page, "#status-overall"), { state: "healthy", text: "Healthy" });
    // Only the 503s of the outage may have failed, nothing else.
    assert.deepEqual(tab.seen.pageErrors, []);
    for (const r of tab.seen.errorResponses) {
      assert.ok(r.status === 503 && /\/api\/(health|users)/.test(r.url), `unexpected HTTP ${r.status} ${r.url}`);
    }
  });
});
