// What GET /api/autoscaler says, in words: the status word, ages, the HPA's arithmetic with
// the live numbers, the explained states, the expected replicas for a load, and the replica
// history the chart draws. Pure (no DOM, no fetch): tested under Node.

import { CLUSTER_SIZING, expectedReplicas, targetMillicoresPerPod } from "./sizing.js";

/** The HPA controller leaves the replicas alone while usage/target is within 1 ± this. */
export const HPA_TOLERANCE = 0.1;

/** spec.behavior when the HPA sets none (the Kubernetes defaults, autoscaling/v2). */
export const DEFAULT_BEHAVIOR = Object.freeze({
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Percent", value: 100, periodSeconds: 15 },
      { type: "Pods", value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Max",
    policies: [{ type: "Percent", value: 100, periodSeconds: 15 }],
  },
});

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

/** 5.4 -> "5.4", 2.6666 -> "2.67", 6 -> "6" */
export function fmt(x) {
  return String(Number(x.toFixed(2)));
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

// ceil() of a ratio computed in floating point: 3 x 70 / 70 must stay 3, not become 4.
const ceil = (x) => Math.ceil(x - 1e-9);

/**
 * The word the panel shows for the HPA: {word, kind}, kind one of up, down, steady, unknown.
 * "scaling up" while desired > current, "scaling down" while desired < current.
 */
export function statusWord(hpa) {
  if (!hpa || !isNum(hpa.current_replicas) || !isNum(hpa.desired_replicas)) {
    return { word: "no data", kind: "unknown" };
  }
  if (hpa.desired_replicas > hpa.current_replicas) return { word: "scaling up", kind: "up" };
  if (hpa.desired_replicas < hpa.current_replicas) return { word: "scaling down", kind: "down" };
  return { word: "steady", kind: "steady" };
}

/** A duration for people: "45s", "3m 12s", "2h 5m", "3d 4h" (negative counts as 0). */
export function formatDuration(ms) {
  const s = Math.max(0, Math.floor((isNum(ms) ? ms : 0) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds since an RFC 3339 time, or null when absent or unreadable. */
export function sinceMs(iso, now) {
  if (typeof iso !== "string" || iso === "") return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : now - t;
}

/** Age of something that started at `iso`: "3m 12s", or "–" when unknown. */
export function formatAge(iso, now) {
  const ms = sinceMs(iso, now);
  return ms === null ? "–" : formatDuration(ms);
}

/** "just now", "12s ago", "3m 12s ago"; "never" when absent. */
export function formatAgo(iso, now) {
  const ms = sinceMs(iso, now);
  if (ms === null) return "never";
  if (ms < 2000) return "just now";
  return `${formatDuration(ms)} ago`;
}

function behaviorRules(behavior, direction) {
  const rules = behavior && typeof behavior === "object" ? behavior[direction] : null;
  const defaults = DEFAULT_BEHAVIOR[direction];
  if (!rules || typeof rules !== "object") return { ...defaults, fromDefaults: true };
  return {
    stabilizationWindowSeconds: isNum(rules.stabilizationWindowSeconds)
      ? rules.stabilizationWindowSeconds
      : defaults.stabilizationWindowSeconds,
    selectPolicy: typeof rules.selectPolicy === "string" ? rules.selectPolicy : "Max",
    policies: Array.isArray(rules.policies) ? rules.policies.filter((p) => p && isNum(p.value)) : defaults.policies,
    fromDefaults: false,
  };
}

/**
 * The most replicas one period of the scaling policies allows from `current` (scale up), or
 * the fewest (scale down), as the HPA controller computes them: Pods adds/removes a count,
 * Percent a share (rounded up when adding, down when removing); selectPolicy Max takes the
 * largest change, Min the smallest, Disabled none.
 * Returns {limit, text}, text like "+100% or +4 pods per 15 s, whichever is larger".
 */
export function policyLimit(rules, current, up) {
  const parts = [];
  const proposals = [];
  for (const p of rules.policies) {
    const period = isNum(p.periodSeconds) ? p.periodSeconds : 15;
    const sign = up ? "+" : "−";
    if (p.type === "Pods") {
      parts.push(`${sign}${plural(p.value, "pod")} per ${period} s`);
      proposals.push(up ? current + p.value : current - p.value);
    } else if (p.type === "Percent") {
      parts.push(`${sign}${p.value}% per ${period} s`);
      proposals.push(up ? Math.ceil(current * (1 + p.value / 100)) : Math.floor(current * (1 - p.value / 100)));
    }
  }
  if (rules.selectPolicy === "Disabled") return { limit: current, text: "disabled" };
  if (proposals.length === 0) return { limit: up ? Infinity : -Infinity, text: "no limit" };
  // The largest change: the highest count when adding, the lowest when removing.
  const largest = rules.selectPolicy !== "Min";
  const pick = largest === up ? Math.max : Math.min;
  const which = proposals.length > 1 ? `, whichever is ${largest ? "larger" : "smaller"}` : "";
  return { limit: pick(...proposals), text: `${parts.join(" or ")}${which}` };
}

/**
 * The HPA's arithmetic with the live numbers, as sentences a person can follow:
 *   desired = ceil(current replicas x current utilisation / target), left alone within the
 *   10% tolerance, clamped to min..max, and limited per period by spec.behavior.
 * Returns {sentences: [...], raw, proposal, computed, clamped ("min"|"max"|null),
 *          limited (bool), withinTolerance (bool)}; computed is null when there is no figure.
 */
export function explainArithmetic(hpa) {
  const out = { sentences: [], raw: null, proposal: null, computed: null, clamped: null, limited: false, withinTolerance: false };
  if (!hpa || !isNum(hpa.current_replicas)) {
    out.sentences.push("No replica counts yet, so there is nothing to compute.");
    return out;
  }
  const cur = hpa.current_replicas;
  const util = hpa.current_cpu_utilization;
  const target = hpa.target_cpu_utilization;
  const min = isNum(hpa.min_replicas) ? hpa.min_replicas : 1;
  const max = isNum(hpa.max_replicas) ? hpa.max_replicas : Infinity;
  const desired = hpa.desired_replicas;
  if (cur === 0) {
    out.sentences.push("The Deployment is scaled to 0 replicas: the HPA does not act on it until it runs again.");
    return out;
  }
  if (!isNum(target) || target <= 0) {
    out.sentences.push("The HPA has no CPU utilisation target, so there is no CPU arithmetic to show.");
    return out;
  }
  if (!isNum(util)) {
    out.sentences.push(
      `The HPA has no CPU figure for the pods yet, so it cannot compute desired = ceil(${plural(cur, "pod")} × CPU ÷ ${target}%) ` +
        `and keeps ${plural(cur, "replica")}.`,
    );
    out.computed = Math.min(max, Math.max(min, cur));
    return out;
  }

  const ratio = util / target;
  const raw = (cur * util) / target;
  out.raw = raw;
  out.proposal = ceil(raw);
  const rounded = fmt(raw) === String(out.proposal) ? `= ${out.proposal}` : `= ${fmt(raw)} → ${out.proposal}`;
  out.sentences.push(`${plural(cur, "pod")} × ${fmt(util)}% ÷ ${fmt(target)}% ${rounded}.`);

  let next = out.proposal;
  if (Math.abs(ratio - 1) <= HPA_TOLERANCE) {
    out.withinTolerance = true;
    next = cur;
    out.sentences.push(
      `${fmt(util)}% is within ${HPA_TOLERANCE * 100}% of the ${fmt(target)}% target (ratio ${fmt(ratio)}), ` +
        `so the HPA keeps ${plural(cur, "replica")}.`,
    );
  }

  if (next > max) {
    out.clamped = "max";
    out.sentences.push(`That is above the maximum of ${max}: clamped to ${max}.`);
    next = max;
  } else if (next < min) {
    out.clamped = "min";
    out.sentences.push(`That is below the minimum of ${min}: clamped to ${min}.`);
    next = min;
  } else if (!out.withinTolerance) {
    out.sentences.push(`It lies within min ${min} and max ${max === Infinity ? "∞" : max}, so no clamping.`);
  }

  if (next !== cur) {
    const up = next > cur;
    const rules = behaviorRules(hpa.behavior, up ? "scaleUp" : "scaleDown");
    const { limit, text } = policyLimit(rules, cur, up);
    const source = rules.fromDefaults ? "The default scaling policies" : "The policies in the HPA's behavior";
    const beyond = up ? next > limit : next < limit;
    if (rules.selectPolicy === "Disabled") {
      out.limited = true;
      out.sentences.push(`Scaling ${up ? "up" : "down"} is disabled in the HPA's behavior, so it stays at ${cur}.`);
      next = cur;
    } else if (beyond) {
      out.limited = true;
      out.sentences.push(
        `${source} allow ${text}: from ${cur}, ${up ? "at most" : "no fewer than"} ${limit} in this step, ` +
          `so it goes to ${limit} first and on to ${next} in the next periods.`,
      );
      next = limit;
    } else {
      out.sentences.push(`${source} (${text}) allow this in one step.`);
    }
    if (!up && rules.stabilizationWindowSeconds > 0) {
      out.sentences.push(
        `Scaling down also waits until the lower figure has held for ${rules.stabilizationWindowSeconds} s (stabilisation window).`,
      );
    }
  }
  out.computed = next;

  if (isNum(desired)) {
    if (desired === next) {
      out.sentences.push(`Desired: ${plural(desired, "replica")}, as the HPA reports.`);
    } else {
      out.sentences.push(
        `The HPA itself reports ${desired} desired: it also weighs pods that are not ready or have no figure yet, ` +
          "and what it recommended within its stabilisation window.",
      );
    }
  }
  return out;
}

const SOURCE_NAMES = {
  hpa: "the HorizontalPodAutoscaler",
  pods: "the backend pods",
  metrics: "the pods' CPU (metrics.k8s.io)",
  events: "the scaling events",
};

/**
 * One source's state (hpa, pods, metrics, events) in words, or null when it is "ok".
 * `part` is {state, message}; `hint` is the local-mode hint.
 */
export function explainSource(name, part, { hint = "", hpaName = "backend-hpa", namespace = "webapp" } = {}) {
  const state = part && typeof part.state === "string" ? part.state : "error";
  const message = part && typeof part.message === "string" && part.message ? part.message : "";
  const what = SOURCE_NAMES[name] || name;
  const detail = message ? `: ${message}` : "";
  switch (state) {
    case "ok":
      return null;
    case "starting":
      return `Reading ${what} for the first time…`;
    case "forbidden":
      return (
        `Forbidden (403)${detail || `: the autoscaler view's ServiceAccount may not read ${what}`}. ` +
        "Its Role must grant get/list on it."
      );
    case "unauthorized":
      return `Unauthorized (401): the Kubernetes API refused the autoscaler view's token${detail}. It may have expired or been revoked.`;
    case "not_found":
      if (name === "metrics") {
        return (
          "The metrics API is missing: metrics-server is not installed, so the HPA has no CPU to act on " +
          "and the pods show no CPU. `task setup` installs it."
        );
      }
      if (name === "hpa") {
        return `No HorizontalPodAutoscaler ${hpaName} in ${namespace}${detail}. Is it applied? (kubectl get hpa -n ${namespace})`;
      }
      return `Not found (404) reading ${what}${detail}.`;
    case "timeout":
      return `The Kubernetes API did not answer in time reading ${what}${detail}. The view keeps trying.`;
    case "unreachable":
      return `The Kubernetes API cannot be reached${detail || " (connection refused, DNS or TLS failure)"}. The view keeps trying.`;
    case "local":
      return hint || "Local mode: one backend process, no autoscaler.";
    case "error":
      return `The Kubernetes API answered with an error reading ${what}${detail}.`;
    default:
      return `Unknown state "${state}" for ${what}${detail}.`;
  }
}

/**
 * Why GET /api/autoscaler itself did not give the panel its JSON, from an api.js result:
 * {kind, title, text}. The endpoint answers 200 whenever the autoscaler view runs; nginx
 * answers 503 (with a JSON error saying why) when the view is not configured or not answering.
 */
export function explainEndpoint(r) {
  const status = r ? r.status : 0;
  const said = r && typeof r.error === "string" && r.error && !/^HTTP \d/.test(r.error) ? r.error : "";
  if (!status) {
    return {
      kind: "down",
      title: "The autoscaler view cannot be reached.",
      text: "The request failed before any answer (network error): the page's server or the network is down.",
    };
  }
  if (status === 502 || status === 503 || status === 504) {
    const configured = !/not configured/i.test(said);
    return {
      kind: "down",
      title: configured ? "The autoscaler view is not running." : "There is no autoscaler view here.",
      text: `nginx answered HTTP ${status} for /api/autoscaler${said ? ` (${said})` : ""}: ` +
        (configured
          ? "the component that reads the Kubernetes API is down or not started."
          : "this setup does not run the component that reads the Kubernetes API.") +
        " The rest of the page works without it.",
    };
  }
  if (status === 404) {
    return {
      kind: "down",
      title: "There is no autoscaler view here.",
      text: "HTTP 404 for /api/autoscaler: this deployment does not route it to the autoscaler view.",
    };
  }
  if (status === 200) {
    return { kind: "error", title: "The autoscaler view answered nonsense.", text: "HTTP 200, but not the JSON the page expects." };
  }
  return { kind: "error", title: "The autoscaler view failed.", text: `HTTP ${status} for /api/autoscaler${said ? ` (${said})` : ""}.` };
}

/** Whether a body looks like the contract's JSON (enough for the panel to render it). */
export function isView(d) {
  return Boolean(d && typeof d === "object" && (d.mode === "cluster" || d.mode === "local") && d.hpa && typeof d.hpa === "object");
}

function mostCommon(values) {
  const counts = new Map();
  for (const v of values) counts.set(v, (counts.get(v) || 0) + 1);
  let best = null;
  for (const [v, n] of counts) if (best === null || n > counts.get(best)) best = v;
  return best;
}

/**
 * The sizing the expected-replicas line uses: in cluster mode the live HPA target, min/max
 * and the pods' CPU request where known, else the manifests' numbers (CLUSTER_SIZING).
 * Returns {sizing, live: [names of the live numbers used]}.
 */
export function liveSizing(view, base = CLUSTER_SIZING) {
  const s = { ...base };
  const live = [];
  if (!view || view.mode !== "cluster") return { sizing: s, live };
  const hpa = view.hpa || {};
  if (isNum(hpa.target_cpu_utilization) && hpa.target_cpu_utilization > 0) {
    s.targetUtilization = hpa.target_cpu_utilization;
    live.push("target");
  }
  if (isNum(hpa.min_replicas) && isNum(hpa.max_replicas) && hpa.min_replicas <= hpa.max_replicas) {
    s.minReplicas = hpa.min_replicas;
    s.maxReplicas = hpa.max_replicas;
    live.push("min/max");
  }
  const items = view.pods && Array.isArray(view.pods.items) ? view.pods.items : [];
  const request = mostCommon(items.map((p) => p.cpu_request_millicores).filter((v) => isNum(v) && v > 0));
  if (request !== null) {
    s.cpuRequestMillicores = request;
    live.push("CPU request");
  }
  return { sizing: s, live };
}

/**
 * The line next to the load controls: what `concurrency` load workers should settle on.
 * Returns {replicas, text}.
 */
export function expectedLoadText(concurrency, view) {
  const { sizing, live } = liveSizing(view);
  const replicas = expectedReplicas(concurrency, sizing);
  const perPod = targetMillicoresPerPod(sizing);
  const raw = ceil((concurrency * sizing.workerMillicores) / perPod);
  const clamp = raw > sizing.maxReplicas ? `, capped at the maximum of ${sizing.maxReplicas}`
    : raw < sizing.minReplicas ? `, raised to the minimum of ${sizing.minReplicas}` : "";
  const math =
    `${concurrency} × ${sizing.workerMillicores}m ÷ ${fmt(perPod)}m per pod ` +
    `(${sizing.cpuRequestMillicores}m request × ${sizing.targetUtilization}% target) = ${raw}${clamp}`;
  let text;
  if (view && view.mode === "local") {
    text = `Here one local process takes it all (no autoscaler). On the cluster, ${plural(concurrency, "worker")} ` +
      `would settle on about ${plural(replicas, "replica")}: ${math}.`;
  } else {
    const from = live.length ? `live ${live.join(", ")} from the cluster` : "numbers from the manifests";
    text = `Expected with ${plural(concurrency, "worker")}: about ${plural(replicas, "replica")}: ${math}; ${from}.`;
  }
  return { replicas, raw, live, text };
}

/**
 * Replica counts over time for the chart: one {current, desired} per second, carried forward
 * between polls for at most `holdMs` (no data after that: a gap, not a made-up line).
 */
export class ReplicaHistory {
  constructor(seconds = 120, holdMs = 6000) {
    this.seconds = seconds;
    this.holdMs = holdMs;
    this.points = []; // [t, current, desired], in time order
  }

  add(t, current, desired) {
    if (!isNum(current)) return;
    this.points.push([t, current, isNum(desired) ? desired : current]);
    const oldest = t - (this.seconds + 10) * 1000;
    while (this.points.length > 1 && this.points[1][0] < oldest) this.points.shift();
  }

  /** The last reading, or null. */
  latest() {
    const p = this.points[this.points.length - 1];
    return p ? { t: p[0], current: p[1], desired: p[2] } : null;
  }

  /** [{sec, current, desired}] oldest first, null values where nothing was known. */
  series(now) {
    const last = Math.floor(now / 1000);
    const out = [];
    let j = 0;
    let known = null;
    for (let sec = last - this.seconds + 1; sec <= last; sec++) {
      const end = (sec + 1) * 1000;
      while (j < this.points.length && this.points[j][0] < end) known = this.points[j++];
      const fresh = known && end - known[0] <= this.holdMs + 1000;
      out.push({ sec, current: fresh ? known[1] : null, desired: fresh ? known[2] : null });
    }
    return out;
  }
}
