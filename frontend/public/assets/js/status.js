// Status bar: /api/health every few seconds -> database and cache badges, version, pod.

import { api, describeError } from "./api.js";

const $ = (id) => document.getElementById(id);

function setBadge(el, state, label, value, title = "") {
  el.dataset.state = state;
  el.textContent = "";
  if (label) el.append(`${label} `);
  const b = document.createElement("b");
  b.textContent = value;
  el.append(b);
  el.title = title;
}

function dependency(check) {
  if (!check || typeof check !== "object") return { state: "unknown", text: "unknown", title: "" };
  const up = check.status === "up";
  const latency = typeof check.latency_ms === "number" ? `${check.latency_ms.toFixed(1)} ms` : "";
  const title = [check.status, latency, check.error].filter(Boolean).join(" · ");
  return { state: up ? "up" : "down", text: up ? "up" : "down", title };
}

export class StatusBar {
  constructor({ intervalMs = 5000, onHealth = () => {} } = {}) {
    this.intervalMs = intervalMs;
    this.onHealth = onHealth;
    this.timer = null;
  }

  start() {
    this.refresh();
  }

  async refresh() {
    clearTimeout(this.timer);
    const r = await api("/api/health", { quiet: true });
    this.render(r);
    this.onHealth(r);
    this.timer = setTimeout(() => this.refresh(), this.intervalMs);
  }

  render(r) {
    const d = r.data && typeof r.data === "object" ? r.data : null;
    const overall = $("status-overall");
    if (r.unavailable || !d || !d.checks) {
      const why = r.unavailable ? "backend unavailable" : "no health data";
      setBadge(overall, "down", "", r.unavailable ? "Backend down" : "Unknown", describeError(r));
      setBadge($("status-db"), "unknown", "Database", "unknown", why);
      setBadge($("status-cache"), "unknown", "Cache", "unknown", why);
      $("status-pod").textContent = "–";
    } else {
      const db = dependency(d.checks.database);
      const cache = dependency(d.checks.redis);
      // Redis down only degrades the service (reads go to PostgreSQL): amber, not red.
      if (cache.state === "down") cache.state = "degraded";
      const status = String(d.status || "unknown");
      const state = status === "healthy" ? "healthy" : status === "degraded" ? "degraded" : "down";
      setBadge(overall, state, "", status.charAt(0).toUpperCase() + status.slice(1), `HTTP ${r.status}`);
      setBadge($("status-db"), db.state, "Database", db.text, db.title);
      setBadge($("status-cache"), cache.state, "Cache", cache.text, cache.title);
      if (d.version) $("status-version").textContent = String(d.version);
      $("status-pod").textContent = String(d.served_by || r.servedBy || "–");
    }
    const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
    $("status-updated").textContent = `Updated ${time}`;
  }
}
