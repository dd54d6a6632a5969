// A small canvas chart of the last two minutes: stacked bars for responses per second
// (successes, then errors in red) on the left axis; p50/p95 latency lines on the right axis.

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
    };
    this.font = `12px ${v("--sans", "sans-serif")}`;
    if (typeof ResizeObserver === "function") {
      new ResizeObserver(() => this.draw()).observe(canvas);
    }
  }

  update(series) {
    this.series = series;
    this.draw();
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
    const h = Math.max(10, height - pad.top - pad.bottom);
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
}
