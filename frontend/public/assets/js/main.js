// Wires the page together: status bar, users, the autoscaling panel and the banner that
// says plainly when the backend cannot be reached.

import { api, describeError, onResponse } from "./api.js";
import { expectedLoadText, ReplicaHistory } from "./autoscaler.js";
import { AutoscalerPanel } from "./autoscaler-panel.js";
import { Chart } from "./chart.js";
import { LoadGenerator, MAX_LOAD_MS } from "./load.js";
import { ServedBy, Timeline } from "./stats.js";
import { StatusBar } from "./status.js";
import { Users } from "./users.js";

const $ = (id) => document.getElementById(id);

const timeline = new Timeline(120);
const servedBy = new ServedBy(10000, 30000);
const replicas = new ReplicaHistory(120);
const chart = new Chart($("chart"));

// ---------- banner: backend unavailable / degraded ----------

const banner = {
  show(kind, title, text) {
    const el = $("banner");
    el.dataset.kind = kind;
    $("banner-title").textContent = title;
    $("banner-text").textContent = text;
    el.hidden = false;
  },
  hide(kind) {
    const el = $("banner");
    if (!kind || el.dataset.kind === kind) el.hidden = true;
  },
};

function backendUnavailable(r) {
  banner.show(
    "down",
    "Backend unavailable.",
    `The API cannot be reached right now: ${describeError(r)}. The page keeps retrying every 5 seconds.`,
  );
}

function onHealth(r) {
  if (r.unavailable) {
    backendUnavailable(r);
    return;
  }
  const d = r.data || {};
  if (r.status === 503 || d.status === "unhealthy") {
    banner.show("degraded", "Database unavailable.", `The backend answers, but PostgreSQL does not: users cannot be read or changed. ${describeError(r)}`);
  } else {
    banner.hide();
  }
}

// ---------- every response: served-by, last response, banner ----------

function lastResponse(r) {
  const el = $("last-response");
  const parts = [`${r.method} ${r.path}`, r.status ? `→ ${r.status}` : "→ network error", `${Math.round(r.ms)} ms`];
  if (r.servedBy) parts.push(`served by ${r.servedBy}`);
  if (r.cache) parts.push(`cache ${r.cache}`);
  if (r.requestId) parts.push(`request id ${r.requestId}`);
  el.textContent = parts.join(" · ");
  el.dataset.kind = r.ok ? "ok" : "error";
}

let lastFooterUpdate = 0;
onResponse((r) => {
  if (r.servedBy) servedBy.add(r.at + r.ms, r.servedBy);
  // The load generator answers many times a second: keep the footer readable.
  const now = Date.now();
  if (!r.quiet || now - lastFooterUpdate > 1000) {
    lastResponse(r);
    lastFooterUpdate = now;
  }
  if (r.unavailable) backendUnavailable(r);
  else if (r.servedBy && $("banner").dataset.kind === "down") banner.hide("down");
});

// ---------- autoscaling panel ----------

const burnInput = $("burn-ms");
const concurrencyInput = $("concurrency");

function burnMs() {
  const v = Math.round(Number(burnInput.value));
  if (!Number.isFinite(v) || v < 1 || v > 5000) {
    burnInput.setAttribute("aria-invalid", "true");
    $("burn-help").textContent = "Enter a whole number from 1 to 5000";
    burnInput.focus();
    return null;
  }
  burnInput.removeAttribute("aria-invalid");
  $("burn-help").textContent = "1 to 5000";
  return v;
}

function concurrency() {
  return Math.min(16, Math.max(1, Math.round(Number(concurrencyInput.value)) || 1));
}

// What the cluster should settle on for this many load workers (live numbers when known).
function renderExpected() {
  const { text, replicas: n } = expectedLoadText(concurrency(), autoscaler.view);
  const el = $("expected-replicas");
  if (el.textContent !== text) el.textContent = text;
  el.dataset.replicas = String(n);
}

concurrencyInput.addEventListener("input", () => {
  $("concurrency-value").textContent = String(concurrency());
  renderExpected();
});

function recordStress(r) {
  timeline.add(r.at + r.ms, r.ms, r.status);
}

const generator = new LoadGenerator({
  onResult: recordStress,
  onChange: (state) => renderLoadState(state),
});

function formatClock(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

function renderLoadState(state = generator.state()) {
  const pill = $("load-state");
  $("start-load").disabled = state.running;
  $("stop-load").disabled = !state.running;
  burnInput.disabled = state.running;
  concurrencyInput.disabled = state.running;
  if (state.running) {
    const elapsed = Date.now() - state.startedAt;
    pill.dataset.state = "running";
    pill.textContent = `Load running · ${state.settings.concurrency} × ${state.settings.burnMs} ms`;
    $("load-info").textContent =
      `Running for ${formatClock(elapsed)} · ${state.sent} requests sent · stops by itself in ${formatClock(state.settings.maxMs - elapsed)}.`;
  } else {
    pill.dataset.state = "idle";
    pill.textContent = "Idle";
    $("load-info").textContent = state.stopReason
      ? `Load ${state.stopReason} after ${state.sent} requests. It stops by itself after 5 minutes.`
      : `Load stops by itself after ${MAX_LOAD_MS / 60000} minutes.`;
  }
}

$("start-load").addEventListener("click", () => {
  const ms = burnMs();
  if (ms === null) return;
  generator.start({ concurrency: concurrency(), burnMs: ms });
  $("stop-load").focus();
});

$("stop-load").addEventListener("click", () => {
  generator.stop("stopped");
  $("start-load").focus();
});

$("run-stress").addEventListener("click", async () => {
  const ms = burnMs();
  if (ms === null) return;
  const btn = $("run-stress");
  const out = $("stress-result");
  btn.disabled = true;
  out.dataset.kind = "";
  out.textContent = `Burning ${ms} ms of CPU…`;
  let r;
  try {
    r = await api(`/api/stress?ms=${ms}`);
  } finally {
    btn.disabled = false;
  }
  recordStress(r);
  out.textContent = "";
  if (r.ok && r.data) {
    const d = r.data;
    out.dataset.kind = "ok";
    const b = (text) => {
      const el = document.createElement("b");
      el.textContent = text;
      return el;
    };
    const pod = document.createElement("b");
    pod.className = "pod-name";
    pod.textContent = String(d.served_by || r.servedBy);
    out.append(
      "Stress test: ", b(`${Number(d.duration_ms).toFixed(0)} ms`), " on the server (",
      b(`${Number(d.cpu_ms).toFixed(0)} ms`), " CPU), ", b(`${Math.round(r.ms)} ms`),
      " round trip, served by ", pod, ".",
    );
    out.dataset.durationMs = String(d.duration_ms);
    out.dataset.servedBy = pod.textContent;
  } else {
    out.dataset.kind = "error";
    out.textContent = `Stress test failed: ${describeError(r)}`;
  }
});

// ---------- live numbers, chart and served-by list, once a second ----------

function formatLatency(ms) {
  if (ms === null) return "–";
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function renderServedBy(now) {
  const list = $("served-list");
  const pods = servedBy.current(now);
  const total = pods.reduce((sum, p) => sum + p.count, 0);
  $("served-count").textContent = `${pods.length} ${pods.length === 1 ? "pod" : "pods"}`;
  $("served-empty").hidden = pods.length > 0;
  const existing = new Map([...list.children].map((li) => [li.dataset.pod, li]));
  pods.forEach((p, index) => {
    let li = existing.get(p.pod);
    if (!li) {
      li = document.createElement("li");
      li.dataset.pod = p.pod;
      const name = document.createElement("span");
      name.className = "served-pod";
      const count = document.createElement("span");
      count.className = "served-count";
      const bar = document.createElement("span");
      bar.className = "served-bar";
      bar.setAttribute("aria-hidden", "true");
      bar.append(document.createElement("span"));
      li.append(name, count, bar);
    }
    existing.delete(p.pod);
    const [name, count, bar] = li.children;
    name.textContent = p.pod;
    if (p.isNew) {
      const tag = document.createElement("span");
      tag.className = "new-tag";
      tag.textContent = "new";
      name.append(tag);
    }
    li.classList.toggle("is-new", p.isNew);
    count.textContent = String(p.count);
    bar.firstChild.style.width = `${total ? Math.max(2, (100 * p.count) / total) : 0}%`;
    if (list.children[index] !== li) list.insertBefore(li, list.children[index] || null);
  });
  for (const li of existing.values()) li.remove();
}

function tick() {
  const now = Date.now();
  const s = timeline.summary(now, 5);
  $("tile-rps").textContent = s.rps >= 10 ? s.rps.toFixed(0) : s.rps.toFixed(1);
  $("tile-p50").textContent = formatLatency(s.p50);
  $("tile-p95").textContent = formatLatency(s.p95);
  $("tile-errors").textContent = String(s.errors);
  $("tile-errors").dataset.nonzero = String(s.errors > 0);
  $("tile-inflight").textContent = String(generator.inFlight);
  chart.update(timeline.series(now), replicas.series(now));
  const summary = chart.describe();
  if ($("chart-summary").textContent !== summary) $("chart-summary").textContent = summary;
  renderServedBy(now);
  if (generator.running) renderLoadState();
}

// ---------- start ----------

const users = new Users({ onUnavailable: backendUnavailable });
const status = new StatusBar({ intervalMs: 5000, onHealth });
const autoscaler = new AutoscalerPanel({
  onView: (view, at) => {
    replicas.add(at, view.hpa.current_replicas, view.hpa.desired_replicas);
    chart.setReplicaMax(view.hpa.max_replicas);
    chart.update(timeline.series(at), replicas.series(at));
  },
  onChange: renderExpected,
});

renderLoadState();
renderExpected();
status.start();
autoscaler.start();
users.reload();
tick();
setInterval(tick, 1000);

// Test hook and console helper: the live state, read-only.
window.autoscalingDemo = Object.freeze({
  timeline,
  servedBy,
  generator,
  replicas,
  autoscaler,
  chart,
  refreshStatus: () => status.refresh(),
});
