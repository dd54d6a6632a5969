// request(): one HTTP request with node:http, one connection per request unless an agent is
// given: exact control of the bytes and connections (abuse, chaos, readiness polls). Returns
// {status, headers, body, json, ms}, headers by lower-case name (r.headers['x-cache']) and
// through r.headers.get(name); never throws for an HTTP status (a network error or the timeout
// throws). The integration suite's apiRequest() (fetch, every response checked against
// backend/openapi.yaml) is in openapi.mjs.
import http from 'node:http';

function withGet(headers) {
  Object.defineProperty(headers, 'get', { value: (name) => headers[name.toLowerCase()] ?? null });
  return headers;
}

export function parseJson(text) {
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
        resolve({ status: res.statusCode, headers: withGet({ ...res.headers }), body: text, json: parseJson(text),
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
