// The one place that talks HTTP. Every call resolves to a plain result object (it never
// throws, except AbortError when the caller aborts), and every result is announced to the
// listeners registered with onResponse(): that is how the page tracks X-Served-By,
// the last response and the "backend unavailable" state without each module doing it.

const listeners = new Set();

/** Register fn(result) to be called after every API response (or network failure). */
export function onResponse(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * Parse an RFC 8288 Link header into {rel: url}.
 * '</api/users?limit=10&before=42>; rel="next"' -> {next: "/api/users?limit=10&before=42"}
 */
export function parseLink(header) {
  const links = {};
  if (!header) return links;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = part.match(/<([^>]*)>((?:\s*;\s*[^;]+)*)/);
    if (!m) continue;
    const rel = m[2].match(/;\s*rel\s*=\s*"?([^";]+)"?/i);
    if (!rel) continue;
    for (const r of rel[1].trim().split(/\s+/)) links[r.toLowerCase()] = m[1];
  }
  return links;
}

/**
 * fetch() wrapper. Result fields:
 *   ok, status, ms, method, path, data (parsed JSON or null), error (readable message),
 *   field (validation error field), servedBy, requestId, cache, links, retryAfter,
 *   unavailable: true when the backend could not be reached (network error, or nginx's
 *   own 502/504, which carry no X-Served-By).
 * announce: false keeps the result from the onResponse() listeners (a request that is not
 * the backend's, like the autoscaler view's, must not raise the "backend unavailable" banner).
 */
export async function api(path, { method = "GET", body, signal, quiet = false, announce = true } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, signal, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const t0 = performance.now();
  const result = {
    ok: false, status: 0, ms: 0, method, path, data: null, error: "", field: "",
    servedBy: "", requestId: "", cache: "", links: {}, retryAfter: 0, unavailable: false,
    quiet, at: Date.now(),
  };
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    result.ms = performance.now() - t0;
    result.unavailable = true;
    result.error = "the server could not be reached (network error)";
    if (announce) emit(result);
    return result;
  }
  result.status = res.status;
  result.ok = res.ok;
  result.servedBy = res.headers.get("X-Served-By") || "";
  result.requestId = res.headers.get("X-Request-ID") || "";
  result.cache = res.headers.get("X-Cache") || "";
  result.links = parseLink(res.headers.get("Link"));
  result.retryAfter = Number(res.headers.get("Retry-After")) || 0;
  const type = res.headers.get("Content-Type") || "";
  try {
    if (type.includes("json")) {
      result.data = await res.json();
    } else {
      await res.text();
    }
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    result.data = null;
  }
  result.ms = performance.now() - t0;
  if (!res.ok) {
    const d = result.data && typeof result.data === "object" ? result.data : {};
    result.error = typeof d.error === "string" && d.error ? d.error : `HTTP ${res.status} ${res.statusText}`.trim();
    result.field = typeof d.field === "string" ? d.field : "";
    if (!result.requestId && typeof d.request_id === "string") result.requestId = d.request_id;
    // The backend answers every request itself, with X-Served-By; a 5xx without it comes
    // from the proxy in front (nginx's JSON 502/504): the backend is not reachable.
    result.unavailable = res.status >= 500 && !result.servedBy;
  }
  if (announce) emit(result);
  return result;
}

function emit(result) {
  for (const fn of listeners) {
    try {
      fn(result);
    } catch (err) {
      console.warn("response listener failed", err);
    }
  }
}

/** "HTTP 502: backend unavailable (request id abc)" */
export function describeError(r) {
  const parts = [];
  parts.push(r.status ? `HTTP ${r.status}: ${r.error}` : r.error);
  if (r.requestId) parts.push(`(request id ${r.requestId})`);
  return parts.join(" ");
}
