// A small canvas chart of the last two minutes: stacked bars for responses per second
// (successes, then errors in red) on the left axis; p50/p95 latency lines on the right axis;
// below them, on the same time axis, the backend's replicas (current solid, desired dashed)
// as step lines on an axis of their own.

// The axis maximum: `rows` grid steps of a round size (1, 2, 2.5 or 5 times a power of ten).
function niceMax(value, floor, rows) {
  const raw = Math.max(value, floor) / rows;
  const exp = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * exp >= raw) * exp;
  return step * rows;
}

function trim(x) {
  return String(Number(x.toFixed(2)));
}

function formatMs(ms) {
  return ms >= 1000 ? `${trim(ms / 1000)}s` : `${trim(ms)}ms`;
}

function formatCount(n) {
  return trim(n);
}

export class Chart {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.series = [];
    this.replicas = [];
    this.replicaMax = 0;
    const css = getComputedStyle(document.documentElement);
    const v = (name, fallback) => css.getPropertyValue(name).trim() || fallback;
    this.colors = {
      text: v("--muted", "#9aa8c3"),
      background: v("--bg-2", "#0f172a"),
      grid: v("--border", "#26334f"),
      rps: v("--accent", "#5aa2ff"),
      err: v("--red", "#f87171"),
      p50: v("--green", "#34d399"),
      p95: v("--amber", "#fbbf24"),
      replicas: v("--violet", "#b794f6"),
      desired: v("--cyan", "#67e8f9"),
    };
    this.font = `12px ${v("--sans", "sans-serif")}`;
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.draw()).observe(canvas);
    }
  }

  /** series: Timeline.series(); replicas: ReplicaHistory.series() over the same seconds. */
  update(series, replicas = this.replicas) {
    this.series = series;
    this.replicas = replicas;
    this.draw();
  }

  /** The top of the replica axis: at least the HPA's maximum, so the room to grow shows. */
  setReplicaMax(max) {
    this.replicaMax = Number.isFinite(max) ? max : 0;
  }

  /** The chart in words, for the text alternative. */
  describe() {
    const s = this.series;
    const parts = [];
    const peak = Math.max(0, ...s.map((b) => b.count));
    const p95 = Math.max(0, ...s.map((b) => b.p95 ?? 0));
    const errors = s.reduce((n, b) => n + b.errors, 0);
    parts.push(peak === 0
      ? "Last 2 minutes: no stress requests."
      : `Last 2 minutes: up to ${peak} requests per second, p95 latency up to ${formatMs(p95)}, ${errors} errors.`);
    const known = this.replicas.filter((r) => r.current !== null);
    if (known.length === 0) {
      parts.push("Replicas: no data from the autoscaler view.");
    } else {
      const first = known[0];
      const last = known[known.length - 1];
      const low = Math.min(...known.map((r) => r.current));
      const high = Math.max(...known.map((r) => r.current));
      parts.push(
        `Replicas: ${first.current} at the start, ${last.current} now (desired ${last.desired})` +
          (low !== high ? `, between ${low} and ${high}.` : "."),
      );
    }
    return parts.join(" ");
  }

  draw() {
    const { canvas, ctx, colors } = this;
    const dpr = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = this.font;

    const pad = { left: 40, right: 50, top: 14, bottom: 24 };
    const w = Math.max(10, width - pad.left - pad.right);
    // The load plot on top, the replica lane below it (its own axis), one time axis.
    const gap = 20;
    const all = Math.max(20, height - pad.top - pad.bottom - gap);
    const laneH = Math.max(10, Math.round(all * 0.34));
    const h = all - laneH;
    const laneTop = pad.top + h + gap;
    const series = this.series;
    const n = Math.max(1, series.length);

    const rows = 4;
    const maxCount = niceMax(Math.max(0, ...series.map((s) => s.count)), 4, rows);
    const maxMs = niceMax(Math.max(0, ...series.map((s) => s.p95 ?? 0)), 100, rows);
    const yCount = (c) => pad.top + h - (c / maxCount) * h;
    const yMs = (ms) => pad.top + h - (ms / maxMs) * h;
    const xAt = (i) => pad.left + (i / n) * w;

    // Grid and axis labels.
    ctx.lineWidth = 1;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.text;
    ctx.textBaseline = "middle";
    for (let r = 0; r <= rows; r++) {
      const y = Math.round(pad.top + (r / rows) * h) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + w, y);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(formatCount(maxCount * (1 - r / rows)), pad.left - 6, y);
      ctx.textAlign = "left";
      ctx.fillText(formatMs(maxMs * (1 - r / rows)), pad.left + w + 6, y);
    }
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "center";
    const seconds = series.length;
    for (let ago = 0; ago <= seconds; ago += 30) {
      const x = pad.left + w - (ago / n) * w;
      const label = ago === 0 ? "now" : ago % 60 === 0 ? `-${ago / 60}m` : `-${ago}s`;
      ctx.fillText(label, Math.min(Math.max(x, pad.left + 12), pad.left + w - 12), height - 6);
    }

    this.drawReplicas({ pad, w, n, laneTop, laneH, xAt });

    // Bars: successes, with errors stacked on top.
    const barW = Math.max(1, w / n - 1);
    series.forEach((s, i) => {
      if (s.count === 0) return;
      const x = xAt(i) + 0.5;
      const ok = s.count - s.errors;
      if (ok > 0) {
        ctx.fillStyle = colors.rps;
        ctx.globalAlpha = 0.75;
        ctx.fillRect(x, yCount(ok), barW, pad.top + h - yCount(ok));
      }
      if (s.errors > 0) {
        ctx.fillStyle = colors.err;
        ctx.globalAlpha = 0.9;
        ctx.fillRect(x, yCount(s.count), barW, yCount(ok) - yCount(s.count));
      }
      ctx.globalAlpha = 1;
    });

    // Latency lines (gaps where a second had no successful response).
    const line = (key, color) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2;
      ctx.lineJoin = "round";
      ctx.beginPath();
      let drawing = false;
      series.forEach((s, i) => {
        const v = s[key];
        if (v === null || v === undefined) {
          drawing = false;
          return;
        }
        const x = xAt(i) + barW / 2;
        if (drawing) ctx.lineTo(x, yMs(v));
        else ctx.moveTo(x, yMs(v));
        drawing = true;
      });
      ctx.stroke();
    };
    line("p50", colors.p50);
    line("p95", colors.p95);

    if (series.every((s) => s.count === 0)) {
      const text = w > 360 ? "No stress requests yet: start the load to see them here" : "No stress requests yet";
      const tw = ctx.measureText(text).width;
      ctx.fillStyle = colors.background;
      ctx.fillRect(pad.left + w / 2 - tw / 2 - 8, pad.top + h / 2 - 11, tw + 16, 22);
      ctx.fillStyle = colors.text;
      ctx.textAlign = "center";
      ctx.textBaseline = "middle";
      ctx.fillText(text, pad.left + w / 2, pad.top + h / 2);
    }
  }

  drawReplicas({ pad, w, n, laneTop, laneH, xAt }) {
    const { canvas, ctx, colors } = this;
    const reps = this.replicas;
    const values = reps.flatMap((r) => (r.current === null ? [] : [r.current, r.desired]));
    // Whole replicas on the axis: 0, the middle and the top (an even number).
    let top = Math.max(2, this.replicaMax, ...values);
    top += top % 2;
    const yR = (v) => laneTop + laneH - (v / top) * laneH;
    const step = w / n;

    ctx.lineWidth = 1;
    ctx.strokeStyle = colors.grid;
    ctx.fillStyle = colors.text;
    ctx.textBaseline = "middle";
    for (const v of [0, top / 2, top]) {
      const y = Math.round(yR(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(pad.left, y);
      ctx.lineTo(pad.left + w, y);
      ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(String(v), pad.left - 6, y);
    }
    ctx.textAlign = "left";
    ctx.textBaseline = "alphabetic";
    ctx.fillText("Replicas", pad.left + 4, laneTop - 4);
    ctx.textBaseline = "middle";

    // Step lines: a value holds for its whole second; a gap where nothing was known.
    const drawn = [];
    const stepLine = (key, color, dash) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 2.5;
      ctx.lineJoin = "miter";
      ctx.setLineDash(dash);
      ctx.beginPath();
      let prev = null;
      reps.forEach((r, i) => {
        const v = r[key];
        if (v === null || v === undefined) {
          prev = null;
          return;
        }
        const x0 = xAt(i);
        const y = yR(v);
        if (prev === null) ctx.moveTo(x0, y);
        else ctx.lineTo(x0, y);
        ctx.lineTo(x0 + step, y);
        prev = v;
      });
      ctx.stroke();
      ctx.setLineDash([]);
    };
    // Desired first: where it equals the current count the solid line covers it.
    stepLine("desired", colors.desired, [5, 4]);
    stepLine("current", colors.replicas, []);

    // The points where the line changes, and the latest values, for tests and tools.
    let last = null;
    reps.forEach((r, i) => {
      if (last && r.current === last.current && r.desired === last.desired) return;
      last = r;
      drawn.push({ ago: reps.length - 1 - i, current: r.current, desired: r.desired, y: r.current === null ? null : Math.round(yR(r.current)) });
    });
    const now = reps.length ? reps[reps.length - 1] : { current: null, desired: null };
    if (now.current !== null) {
      ctx.textBaseline = "middle";
      ctx.textAlign = "left";
      ctx.font = `600 ${this.font}`;
      ctx.fillStyle = colors.replicas;
      ctx.fillText(String(now.current), pad.left + w + 6, yR(now.current) - (now.desired > now.current ? -7 : 7));
      if (now.desired !== now.current) {
        ctx.fillStyle = colors.desired;
        ctx.fillText(`→${now.desired}`, pad.left + w + 6, yR(now.desired) + (now.desired > now.current ? -7 : 7));
      }
      ctx.font = this.font;
    } else if (values.length === 0) {
      ctx.fillStyle = colors.text;
      ctx.textAlign = "center";
      ctx.fillText("No replica data", pad.left + w / 2, laneTop + laneH / 2);
    }
    const data = {
      replicasCurrent: now.current === null ? "" : String(now.current),
      replicasDesired: now.desired === null ? "" : String(now.desired),
      replicaSteps: JSON.stringify(drawn),
    };
    for (const [k, v] of Object.entries(data)) if (canvas.dataset[k] !== v) canvas.dataset[k] = v;
  }
}
