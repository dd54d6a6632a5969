// HTTP requests for the suites; both return {status, headers, body, json, ms} and never throw
// for an HTTP status (a network error or the timeout throws).
//   request     node:http, one request per connection unless an agent is given: exact control
//               of the bytes and connections (abuse, chaos, the readiness polls).
//   apiRequest  fetch, the way an ordinary client calls the API (pooled keep-alive connections);
//               every response is checked against backend/openapi.yaml (route, status, headers,
//               body schema), so no test has to remember to check (integration).
// headers: lower-case names as properties (r.headers['x-cache']) and r.headers.get(name).
import http from 'node:http';
import { checkResponse } from './openapi.mjs';

function withGet(headers) {
  Object.defineProperty(headers, 'get', { value: (name) => headers[name.toLowerCase()] ?? null });
  return headers;
}

function parse(text) {
  try { return text ? JSON.parse(text) : undefined; } catch { return undefined; }
}

export function request(base, path, { method = 'GET', body, headers = {}, timeout = 10000, agent } = {}) {
  const url = new URL(base + path);
  const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const hdrs = { ...headers };
  if (data !== undefined) {
    hdrs['content-type'] ??= 'application/json';
    hdrs['content-length'] = Buffer.byteLength(data);
  }
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname + url.search, method,
      headers: hdrs, agent: agent ?? false, timeout }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode, headers: withGet({ ...res.headers }), body: text, json: parse(text),
          ms: performance.now() - t0 });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeout} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.write(data);
    req.end();
  });
}

// chunked: send the body with Transfer-Encoding: chunked (16 KiB chunks) instead of a length.
export async function apiRequest(base, path, { method = 'GET', body, headers = {}, timeout = 10000, chunked = false } = {}) {
  const t0 = performance.now();
  let data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (chunked && data !== undefined) {
    const bytes = Buffer.from(data);
    data = new ReadableStream({
      start(c) {
        for (let i = 0; i < bytes.length; i += 16384) c.enqueue(bytes.subarray(i, i + 16384));
        c.close();
      },
    });
  }
  const res = await fetch(base + path, {
    method, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers,
    body: data, duplex: chunked ? 'half' : undefined, signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  const out = { status: res.status, headers: res.headers, body: text, json: parse(text), ms: performance.now() - t0 };
  checkResponse(method, path, out);
  return out;
}
