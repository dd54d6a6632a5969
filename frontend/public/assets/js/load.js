// Sustained load from the browser: `concurrency` workers, each sending GET /api/stress
// one after the other. Stops on request or by itself after maxMs; stopping aborts the
// requests in flight so nothing more is sent.

import { api } from "./api.js";

export const MAX_LOAD_MS = 5 * 60 * 1000;

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export class LoadGenerator {
  /** onResult(result) after each response; onChange(state) when it starts or stops. */
  constructor({ onResult = () => {}, onChange = () => {} } = {}) {
    this.onResult = onResult;
    this.onChange = onChange;
    this.controller = null;
    this.timer = null;
    this.inFlight = 0;
    this.sent = 0;
    this.startedAt = 0;
    this.settings = null;
    this.stopReason = "";
  }

  get running() {
    return this.controller !== null;
  }

  start({ concurrency, burnMs, maxMs = MAX_LOAD_MS }) {
    if (this.running) return;
    this.controller = new AbortController();
    this.settings = { concurrency, burnMs, maxMs };
    this.startedAt = Date.now();
    this.sent = 0;
    this.stopReason = "";
    this.timer = setTimeout(() => this.stop("time limit reached"), maxMs);
    for (let i = 0; i < concurrency; i++) this.worker(this.controller.signal, burnMs);
    this.onChange(this.state());
  }

  stop(reason = "stopped") {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.controller.abort();
    this.controller = null;
    this.stopReason = reason;
    this.onChange(this.state());
  }

  state() {
    return {
      running: this.running,
      startedAt: this.startedAt,
      sent: this.sent,
      inFlight: this.inFlight,
      settings: this.settings,
      stopReason: this.stopReason,
    };
  }

  async worker(signal, burnMs) {
    const path = `/api/stress?ms=${encodeURIComponent(burnMs)}`;
    while (!signal.aborted) {
      let result;
      this.inFlight++;
      this.sent++;
      try {
        result = await api(path, { signal, quiet: true });
      } catch (err) {
        // Aborted by stop(): not a response, not counted.
        break;
      } finally {
        this.inFlight--;
      }
      this.onResult(result);
      if (signal.aborted) break;
      // Keep errors visible without spinning: a short pause after a refusal (429: every
      // stress slot busy), a longer one while the backend cannot be reached.
      if (result.unavailable) await sleep(1000, signal);
      else if (result.status === 429) await sleep(200, signal);
      else if (!result.ok) await sleep(250, signal);
    }
  }
}
