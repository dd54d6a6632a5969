// The autoscaler panel: GET /api/autoscaler every 2 s while the page is visible, rendered as
// the HPA's numbers, the arithmetic behind them, its conditions, the backend pods and the
// scaling events. Every failure is an explained state; old data stays, marked stale.

import { api } from "./api.js";
import {
  explainArithmetic, explainEndpoint, explainSource, fmt, formatAge, formatAgo, formatDuration, isView, sinceMs,
  statusWord,
} from "./autoscaler.js";

export const POLL_MS = 2000;
const REQUEST_TIMEOUT_MS = 8000;

const $ = (id) => document.getElementById(id);
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const isNum = (v) => typeof v === "number" && Number.isFinite(v);

function absolute(iso) {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? "" : fullFormat.format(new Date(t));
}

/** A <time> element: relative text, absolute time in the datetime attribute and tooltip. */
function timeEl(iso, text) {
  const el = document.createElement("time");
  el.dateTime = iso;
  el.title = absolute(iso);
  el.textContent = text;
  return el;
}

function setNote(el, kind, text) {
  if (!text) {
    el.hidden = true;
    el.textContent = "";
    return;
  }
  el.hidden = false;
  el.dataset.kind = kind;
  el.textContent = text;
}

function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

export class AutoscalerPanel {
  /** onView(view, at) after each successful read; onChange() after each render. */
  constructor({ onView = () => {}, onChange = () => {}, intervalMs = POLL_MS } = {}) {
    this.onView = onView;
    this.onChange = onChange;
    this.intervalMs = intervalMs;
    this.timer = null;
    this.inFlight = false;
    this.view = null; // the last good answer
    this.viewAt = 0; // when it arrived (browser clock)
    this.failure = null; // {kind, title, text} while the endpoint fails
    this.polls = 0;
    this.lastWord = "";
    this.root = $("autoscaler");
    document.addEventListener("visibilitychange", () => this.onVisibility());
  }

  get polling() {
    return this.timer !== null || this.inFlight;
  }

  start() {
    this.onVisibility();
  }

  /** Poll while the page is visible; stop when it is hidden (nobody is watching). */
  onVisibility() {
    if (document.visibilityState === "visible") {
      if (!this.polling) this.poll();
    } else {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  async poll() {
    clearTimeout(this.timer);
    this.timer = null;
    this.inFlight = true;
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let r;
    try {
      r = await api("/api/autoscaler", { quiet: true, announce: false, signal });
    } catch (err) {
      r = { status: 0, data: null };
    } finally {
      this.inFlight = false;
    }
    this.polls++;
    if (r.status === 200 && isView(r.data)) {
      this.view = r.data;
      this.viewAt = Date.now();
      this.failure = null;
      this.onView(this.view, this.viewAt);
    } else {
      this.failure = explainEndpoint(r);
      if (!r.status && signal.aborted) {
        this.failure.text = `No answer from /api/autoscaler within ${REQUEST_TIMEOUT_MS / 1000} s.`;
      }
    }
    this.render();
    if (document.visibilityState === "visible") {
      this.timer = setTimeout(() => this.poll(), this.intervalMs);
    }
  }

  render(now = Date.now()) {
    const view = this.view;
    const root = this.root;
    const note = $("hpa-note");

    if (!view) {
      root.dataset.state = this.failure ? "down" : "starting";
      setNote(note, this.failure ? "down" : "info",
        this.failure ? `${this.failure.title} ${this.failure.text}` : "Starting: reading the autoscaler for the first time…");
      this.renderWord({ word: "no data", kind: "unknown" });
      setText($("hpa-meta"), this.failure ? "No data from the autoscaler view yet." : "Reading /api/autoscaler…");
      setText($("hpa-math"), "No numbers yet: this fills in once the autoscaler view answers.");
      $("hpa-metric-target").hidden = true;
      this.onChange();
      return;
    }

    const hpa = view.hpa || {};
    const observedAgo = sinceMs(view.observed_at, now);
    const staleLimit = Math.max(10000, 5 * (isNum(view.poll_ms) ? view.poll_ms : POLL_MS));
    const opts = { hint: view.hint || "", hpaName: hpa.name || "backend-hpa", namespace: view.namespace || "webapp" };

    // The panel's main note: the endpoint failing, the view not reading, or the HPA's own state.
    let state = "ok";
    let text = "";
    if (this.failure) {
      state = "stale";
      text = `Stale: showing what was read ${formatDuration(now - this.viewAt)} ago. ${this.failure.title} ${this.failure.text}`;
    } else if (view.observed_at === null || view.observed_at === undefined) {
      state = "starting";
      text = "Starting: the autoscaler view has not read the Kubernetes API yet.";
    } else if (observedAgo !== null && observedAgo > staleLimit) {
      state = "stale";
      text = `Stale: the autoscaler view last read the Kubernetes API ${formatAgo(view.observed_at, now)}.`;
    }
    const hpaText = hpa.state === "local" ? "" : explainSource("hpa", hpa, opts);
    if (hpaText) {
      const hasData = isNum(hpa.current_replicas);
      if (state === "ok") state = hpa.state === "starting" ? "starting" : hasData ? "stale" : hpa.state;
      text = [text, hasData && hpa.state !== "starting" ? `Stale HPA data: ${hpaText}` : hpaText].filter(Boolean).join(" ");
    }
    root.dataset.state = view.mode === "local" && state === "ok" ? "local" : state;
    root.dataset.mode = view.mode;
    setNote(note, state === "ok" ? "info" : state === "starting" ? "info" : state === "stale" ? "stale" : "down", text);
    setNote($("hpa-hint"), "info", view.mode === "local" ? view.hint || explainSource("hpa", hpa, opts) : "");

    setText($("hpa-name"), view.mode === "local" ? "· local" : hpa.name ? `· ${hpa.name}` : "");
    const meta = [view.mode === "local" ? "Local mode" : `Cluster · namespace ${view.namespace || "?"}`];
    meta.push(view.observed_at ? `read ${formatAgo(view.observed_at, now)}` : "not read yet");
    setText($("hpa-meta"), meta.join(" · "));

    this.renderWord(statusWord(hpa));
    this.renderNumbers(hpa);
    this.renderMetric(hpa, view);
    const math = view.mode === "local"
      ? "Local mode: one process and no autoscaler, so there is nothing to compute. The cluster runs " +
        "desired = ceil(current replicas × CPU utilisation ÷ target), clamped to min..max."
      : explainArithmetic(hpa).sentences.join(" ");
    setText($("hpa-math"), math);
    this.renderConditions(hpa, now);
    this.renderPods(view, now, opts);
    this.renderEvents(view, now, opts);
    this.onChange();
  }

  renderWord(w) {
    const el = $("hpa-word");
    el.dataset.kind = w.kind;
    setText(el, w.word);
    // Announce a change of direction once, not every poll.
    if (w.word !== this.lastWord) {
      if (this.lastWord) setText($("hpa-announce"), `Autoscaler: ${w.word}.`);
      this.lastWord = w.word;
    }
  }

  renderNumbers(hpa) {
    const show = (id, v) => setText($(id), isNum(v) ? String(v) : "–");
    show("hpa-current", hpa.current_replicas);
    show("hpa-desired", hpa.desired_replicas);
    show("hpa-min", hpa.min_replicas);
    show("hpa-max", hpa.max_replicas);
    $("hpa-desired").dataset.kind = statusWord(hpa).kind;

    // One slot per possible replica: filled = running, outlined = wanted but not there yet.
    const slots = $("hpa-slots");
    const max = isNum(hpa.max_replicas) ? Math.min(hpa.max_replicas, 50) : 0;
    while (slots.children.length < max) slots.append(document.createElement("span"));
    while (slots.children.length > max) slots.lastChild.remove();
    [...slots.children].forEach((s, i) => {
      const n = i + 1;
      s.className = n <= hpa.current_replicas
        ? (n > hpa.desired_replicas ? "slot slot-leaving" : "slot slot-on")
        : n <= hpa.desired_replicas ? "slot slot-wanted" : n <= hpa.min_replicas ? "slot slot-min" : "slot";
    });
  }

  renderMetric(hpa, view) {
    const fill = $("hpa-metric-fill");
    const mark = $("hpa-metric-target");
    const util = hpa.current_cpu_utilization;
    const target = hpa.target_cpu_utilization;
    let text;
    if (view.mode === "local") {
      const pod = view.pods && Array.isArray(view.pods.items) ? view.pods.items[0] : null;
      text = pod && isNum(pod.cpu_millicores)
        ? `CPU of the local process: ${pod.cpu_millicores}m (${fmt(pod.cpu_millicores / 10)}% of one core).`
        : "CPU of the local process: not measured yet.";
      fill.style.width = pod && isNum(pod.cpu_millicores) ? `${Math.min(100, pod.cpu_millicores / 10)}%` : "0%";
      mark.hidden = true;
    } else {
      const parts = [];
      parts.push(isNum(util) ? `CPU: ${fmt(util)}% of the request on average` : "CPU: no figure");
      if (isNum(target)) parts.push(`target ${fmt(target)}%`);
      if (isNum(hpa.current_cpu_millicores)) parts.push(`${hpa.current_cpu_millicores}m per pod`);
      text = `${parts.join(" · ")}.`;
      // Scale: twice the target, so the target mark sits in the middle.
      const full = isNum(target) && target > 0 ? 2 * target : 100;
      fill.style.width = isNum(util) ? `${Math.min(100, (100 * util) / full)}%` : "0%";
      fill.dataset.over = String(isNum(util) && isNum(target) && util > target);
      mark.hidden = !isNum(target);
    }
    setText($("hpa-metric-text"), text);
  }

  renderConditions(hpa, now) {
    const list = $("hpa-conditions");
    const conditions = Array.isArray(hpa.conditions) ? hpa.conditions : [];
    list.textContent = "";
    for (const c of conditions) {
      const li = document.createElement("li");
      li.dataset.type = String(c.type);
      li.dataset.status = String(c.status);
      const head = document.createElement("span");
      head.className = "cond-head";
      const type = document.createElement("b");
      type.textContent = String(c.type);
      const status = document.createElement("span");
      status.className = "cond-status";
      status.dataset.status = String(c.status);
      status.textContent = String(c.status);
      head.append(type, " ", status);
      if (c.reason) head.append(` · ${c.reason}`);
      li.append(head);
      if (c.message) {
        const msg = document.createElement("span");
        msg.className = "cond-message";
        msg.textContent = String(c.message);
        li.append(msg);
      }
      list.append(li);
    }
    $("hpa-conditions-empty").hidden = conditions.length > 0;
    const last = $("hpa-last-scale");
    last.textContent = "";
    if (hpa.last_scale_time) {
      last.append("· last scaled ", timeEl(hpa.last_scale_time, formatAgo(hpa.last_scale_time, now)),
        ` (${absolute(hpa.last_scale_time)})`);
    } else if (hpa.state !== "local") {
      last.append("· never scaled");
    }
  }

  renderPods(view, now, opts) {
    const pods = view.pods || {};
    const items = Array.isArray(pods.items) ? pods.items : [];
    const target = isNum(view.hpa?.target_cpu_utilization) ? view.hpa.target_cpu_utilization : null;
    const podsText = explainSource("pods", pods, opts);
    setNote($("pods-note"), items.length ? "stale" : "warn",
      podsText ? (items.length && pods.state !== "starting" ? `Stale: ${podsText}` : podsText) : "");
    const metrics = view.metrics || {};
    setNote($("metrics-note"), "warn", explainSource("metrics", metrics, opts) || "");
    const ready = items.filter((p) => p.ready).length;
    setText($("pods-count"), items.length ? `· ${ready} of ${items.length} ready` : "");

    const body = $("pods-body");
    body.textContent = "";
    for (const p of items) {
      const tr = document.createElement("tr");
      tr.setAttribute("role", "row");
      tr.dataset.pod = String(p.name);
      const cell = (cls, label, content) => {
        const td = document.createElement("td");
        td.setAttribute("role", "cell");
        td.className = cls;
        td.dataset.label = label;
        td.append(content);
        tr.append(td);
        return td;
      };
      cell("pod-name", "Pod", String(p.name));
      const readyTd = cell("pod-ready", "Ready", p.ready ? "ready" : "not ready");
      readyTd.dataset.ready = String(Boolean(p.ready));
      cell("pod-phase", "Phase", String(p.phase ?? "–"));
      cell("pod-node", "Node", String(p.node ?? "–"));
      cell("pod-age", "Age", p.started_at ? timeEl(p.started_at, formatAge(p.started_at, now)) : "–");
      cell("pod-restarts", "Restarts", isNum(p.restarts) ? String(p.restarts) : "–");
      cell("pod-cpu", "CPU", this.cpuCell(p, target));
      body.append(tr);
    }
    $("pods-table").hidden = items.length === 0;
    $("pods-empty").hidden = items.length > 0;
  }

  cpuCell(p, target) {
    const wrap = document.createElement("span");
    wrap.className = "cpu";
    const used = isNum(p.cpu_millicores) ? `${p.cpu_millicores}m` : "–";
    const req = isNum(p.cpu_request_millicores) && p.cpu_request_millicores > 0 ? p.cpu_request_millicores : null;
    const label = document.createElement("span");
    label.className = "cpu-text";
    label.textContent = req
      ? `${used} / ${req}m${isNum(p.cpu_millicores) ? ` (${Math.round((100 * p.cpu_millicores) / req)}%)` : ""}`
      : used;
    wrap.append(label);
    if (req && isNum(p.cpu_millicores)) {
      // Full bar: twice the HPA target (or twice the request), the mark at the target.
      const full = req * (target ? (2 * target) / 100 : 2);
      const bar = document.createElement("span");
      bar.className = "cpu-bar";
      bar.setAttribute("aria-hidden", "true");
      const fill = document.createElement("span");
      fill.style.width = `${Math.min(100, (100 * p.cpu_millicores) / full)}%`;
      fill.dataset.over = String(target !== null && (100 * p.cpu_millicores) / req > target);
      bar.append(fill, document.createElement("i"));
      wrap.append(bar);
    }
    return wrap;
  }

  renderEvents(view, now, opts) {
    const events = view.events || {};
    const items = Array.isArray(events.items) ? events.items : [];
    const text = events.state === "local" ? "" : explainSource("events", events, opts);
    setNote($("events-note"), items.length ? "stale" : "warn",
      text ? (items.length && events.state !== "starting" ? `Stale: ${text}` : text) : "");
    const list = $("events-list");
    list.textContent = "";
    for (const e of items) {
      const li = document.createElement("li");
      li.dataset.type = String(e.type);
      const head = document.createElement("span");
      head.className = "event-head";
      if (e.time) head.append(timeEl(e.time, formatAgo(e.time, now)), " · ");
      const reason = document.createElement("b");
      reason.textContent = String(e.reason ?? "");
      head.append(reason);
      if (e.type && e.type !== "Normal") head.append(` (${e.type})`);
      if (isNum(e.count) && e.count > 1) head.append(` ×${e.count}`);
      const msg = document.createElement("span");
      msg.className = "event-message";
      msg.textContent = String(e.message ?? "");
      li.append(head, msg);
      list.append(li);
    }
    $("events-empty").hidden = items.length > 0;
    setText($("events-empty"), view.mode === "local" ? "No scaling events in local mode." : "No scaling events yet.");
  }
}
