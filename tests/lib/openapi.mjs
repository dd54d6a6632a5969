// The OpenAPI description as a response checker: every response the integration tests get
// is checked against the schema of its route and status in backend/openapi.yaml, so that the
// description and the server cannot drift apart unnoticed.
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseJson } from './http.mjs';

export const SPEC = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'backend/openapi.yaml');

// validate() checks the document against the OpenAPI 3.0 schema and dereferences it.
const api = await SwaggerParser.validate(SPEC);
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('int64', { type: 'number', validate: Number.isSafeInteger });
ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
const compiled = new WeakMap();
function validator(schema) {
  if (!compiled.has(schema)) compiled.set(schema, ajv.compile(schema));
  return compiled.get(schema);
}

const routes = Object.entries(api.paths).map(([template, item]) => ({
  template, item,
  re: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const errorSchema = api.components.schemas.Error;

// The route of a request path ("/api/users/7?x=1" -> "/api/users/{id}"), or undefined.
export function route(path) {
  const p = path.split('?')[0];
  return routes.find((r) => r.re.test(p));
}

function fail(what, res, detail) {
  const body = typeof res.body === 'string' ? res.body.slice(0, 300) : '';
  throw new Error(`response does not match backend/openapi.yaml: ${what}: ${detail}\n  got ${res.status} ${body}`);
}

function checkJson(what, res, schema) {
  if (res.json === undefined) fail(what, res, 'the body is not JSON');
  const v = validator(schema);
  if (!v(res.json)) fail(what, res, ajv.errorsText(v.errors));
  // An error carries the request id of its X-Request-ID header.
  if (res.json.error !== undefined && res.json.request_id !== res.headers.get('x-request-id')) {
    fail(what, res, `request_id ${res.json.request_id} is not X-Request-ID ${res.headers.get('x-request-id')}`);
  }
}

// res: {status, headers (a Headers object), body (text), json}. Throws on a mismatch.
export function checkResponse(method, path, res) {
  method = method.toUpperCase();
  const what = `${method} ${path.split('?')[0].slice(0, 80)}`;
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(res.headers.get('x-request-id') || '')) fail(what, res, 'no valid X-Request-ID');
  const r = route(path);
  if (!r) {
    if (res.status !== 404) fail(what, res, 'an undocumented path must be 404');
    return checkJson(what, res, errorSchema);
  }
  if (method === 'OPTIONS') {
    if (res.status !== 204 || res.body !== '' || !res.headers.get('allow')) fail(what, res, 'OPTIONS is 204 with Allow and no body');
    return undefined;
  }
  const op = r.item[method === 'HEAD' ? 'get' : method.toLowerCase()];
  if (!op || !METHODS.includes(method.toLowerCase())) {
    if (res.status !== 405 || !res.headers.get('allow')) fail(what, res, `${method} is not documented for ${r.template}: 405 with Allow`);
    return checkJson(what, res, errorSchema);
  }
  const doc = op.responses[String(res.status)];
  if (!doc) fail(what, res, `status ${res.status} is not documented for ${method} ${r.template}`);
  for (const [name, h] of Object.entries(doc.headers || {})) {
    if (h.required && res.headers.get(name) === null) fail(what, res, `header ${name} is required`);
    if (h.schema?.type === 'integer' && res.headers.get(name) !== null && !/^\d+$/.test(res.headers.get(name))) {
      fail(what, res, `header ${name} is not an integer`);
    }
  }
  if (method === 'HEAD' || !doc.content) {
    if (res.body !== '') fail(what, res, 'no body is documented');
    return undefined;
  }
  const type = (res.headers.get('content-type') || '').split(';')[0].trim();
  const media = doc.content[type];
  if (!media) fail(what, res, `content type ${type} is not documented (${Object.keys(doc.content)})`);
  if (type === 'application/json') return checkJson(what, res, media.schema);
  return undefined;
}

export { api };

// apiRequest: a request the way an ordinary client makes it (fetch: pooled keep-alive
// connections), its response checked with checkResponse(), so no test has to remember to check.
// Returns {status, headers (a Headers object), body, json, ms}.
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
  const out = { status: res.status, headers: res.headers, body: text, json: parseJson(text), ms: performance.now() - t0 };
  checkResponse(method, path, out);
  return out;
}
