// A small kustomize for the features k8s/ uses, so that the manifests can be rendered
// and checked on a machine without kubectl (kubectl kustomize, where present, must give
// the same objects: manifests.test.mjs compares them).
//
// Supported kustomization fields: apiVersion, kind, resources (files, directories, and
// https:// URLs mapped to local files by opts.remote), namespace, images, patches
// (strategic merge with the merge keys k8s/ needs, and JSON 6902 add/remove/replace).
// Anything else throws, so that a new feature cannot be silently ignored.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'namespace', 'images', 'patches']);

// Kinds that live outside namespaces (the namespace field does not apply to them).
const CLUSTER_SCOPED = new Set([
  'Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'APIService',
  'IngressClass', 'StorageClass', 'PersistentVolume', 'PriorityClass', 'GatewayClass',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'Node',
]);

export function parseDocs(text, where = '<text>') {
  const docs = YAML.parseAllDocuments(text);
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${where}: ${d.errors[0].message}`);
    const v = d.toJSON();
    if (v !== null && v !== undefined) out.push(v);
  }
  return out;
}

export function readDocs(file) {
  return parseDocs(fs.readFileSync(file, 'utf8'), file);
}

const clone = (v) => JSON.parse(JSON.stringify(v));
const isMap = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

export function render(dir, opts = {}) {
  const kfile = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
    .map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
  if (!kfile) throw new Error(`${dir}: no kustomization.yaml`);
  const k = readDocs(kfile)[0] || {};
  for (const key of Object.keys(k)) {
    if (!SUPPORTED.has(key)) throw new Error(`${kfile}: field '${key}' is not supported by tests/k8s/lib/kustomize.mjs`);
  }
  let objs = [];
  for (const r of k.resources || []) {
    if (/^https?:\/\//.test(r)) {
      const local = opts.remote && opts.remote(r);
      if (!local) throw new Error(`${kfile}: remote resource ${r} has no offline copy`);
      objs.push(...readDocs(local));
      continue;
    }
    if (path.isAbsolute(r)) throw new Error(`${kfile}: absolute resource path ${r}`);
    const p = path.join(dir, r);
    if (!fs.existsSync(p)) throw new Error(`${kfile}: resource ${r} does not exist`);
    if (fs.statSync(p).isDirectory()) objs.push(...render(p, opts));
    else objs.push(...readDocs(p));
  }
  for (const p of k.patches || []) objs = applyPatch(objs, p, dir, kfile);
  if (k.namespace) {
    for (const o of objs) {
      if (!CLUSTER_SCOPED.has(o.kind)) {
        o.metadata = o.metadata || {};
        o.metadata.namespace = k.namespace;
      }
    }
  }
  for (const img of k.images || []) setImage(objs, img);
  const seen = new Set();
  for (const o of objs) {
    const id = objectId(o);
    if (seen.has(id)) throw new Error(`${kfile}: ${id} appears twice`);
    seen.add(id);
  }
  return objs;
}

export function objectId(o) {
  const ns = o.metadata && o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${o.kind}/${ns}${o.metadata && o.metadata.name}`;
}

// --- images ---------------------------------------------------------------------------

function splitImage(ref) {
  let name = ref;
  let digest = '';
  let tag = '';
  const at = name.indexOf('@');
  if (at >= 0) { digest = name.slice(at + 1); name = name.slice(0, at); }
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) { tag = name.slice(colon + 1); name = name.slice(0, colon); }
  return { name, tag, digest };
}

function setImage(objs, img) {
  const visit = (node) => {
    if (Array.isArray(node)) { node.forEach(visit); return; }
    if (!isMap(node)) return;
    for (const key of ['containers', 'initContainers']) {
      if (!Array.isArray(node[key])) continue;
      for (const c of node[key]) {
        if (!c || typeof c.image !== 'string') continue;
        const cur = splitImage(c.image);
        if (cur.name !== img.name) continue;
        const name = img.newName || cur.name;
        if (img.digest) c.image = `${name}@${img.digest}`;
        else if (img.newTag !== undefined) c.image = `${name}:${img.newTag}`;
        else c.image = name + (cur.tag ? `:${cur.tag}` : '') + (cur.digest ? `@${cur.digest}` : '');
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(objs);
}

// --- patches --------------------------------------------------------------------------

function matchesTarget(o, t) {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (t.kind && t.kind !== o.kind) return false;
  if (t.name && t.name !== o.metadata.name) return false;
  if (t.namespace && t.namespace !== (o.metadata.namespace || '')) return false;
  if (t.group !== undefined && t.group !== group) return false;
  if (t.version && t.version !== version) return false;
  if (t.labelSelector || t.annotationSelector) throw new Error('patch target selectors are not supported');
  return true;
}

function applyPatch(objs, p, dir, kfile) {
  const text = p.path ? fs.readFileSync(path.join(dir, p.path), 'utf8') : p.patch;
  if (typeof text !== 'string') throw new Error(`${kfile}: a patch needs path or patch`);
  const docs = parseDocs(text, p.path || `${kfile} inline patch`);
  if (docs.length !== 1) throw new Error(`${kfile}: one document per patch`);
  const body = docs[0];
  if (Array.isArray(body)) {
    if (!p.target) throw new Error(`${kfile}: a JSON 6902 patch needs a target`);
    const hits = objs.filter((o) => matchesTarget(o, p.target));
    if (!hits.length) throw new Error(`${kfile}: patch target ${JSON.stringify(p.target)} matches nothing`);
    for (const o of hits) jsonPatch(o, body);
    return objs;
  }
  const target = p.target || {
    kind: body.kind,
    name: body.metadata && body.metadata.name,
    namespace: body.metadata && body.metadata.namespace,
  };
  const hits = objs.filter((o) => matchesTarget(o, target));
  if (!hits.length) throw new Error(`${kfile}: patch for ${JSON.stringify(target)} matches nothing`);
  return objs.map((o) => (hits.includes(o) ? strategicMerge(o, body) : o));
}

function pointer(p) {
  return p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function jsonPatch(obj, ops) {
  for (const op of ops) {
    const parts = pointer(op.path);
    const last = parts.pop();
    let parent = obj;
    for (const s of parts) {
      parent = Array.isArray(parent) ? parent[Number(s)] : parent[s];
      if (parent === undefined) throw new Error(`JSON patch path ${op.path} does not exist`);
    }
    if (op.op === 'add') {
      if (Array.isArray(parent)) {
        if (last === '-') parent.push(clone(op.value));
        else parent.splice(Number(last), 0, clone(op.value));
      } else parent[last] = clone(op.value);
    } else if (op.op === 'remove' || op.op === 'replace') {
      const exists = Array.isArray(parent) ? Number(last) < parent.length : Object.hasOwn(parent, last);
      if (!exists) throw new Error(`JSON patch ${op.op}: ${op.path} does not exist`);
      if (op.op === 'remove') {
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
      } else if (Array.isArray(parent)) parent[Number(last)] = clone(op.value);
      else parent[last] = clone(op.value);
    } else {
      throw new Error(`JSON patch op '${op.op}' is not supported`);
    }
  }
}

// The list merge keys of the Kubernetes types k8s/ patches (strategic merge patch).
function mergeKey(field, items) {
  const sample = items.find(isMap) || {};
  if (['containers', 'initContainers', 'env', 'volumes', 'imagePullSecrets'].includes(field)) return 'name';
  if (field === 'volumeMounts') return 'mountPath';
  if (field === 'ports') return 'containerPort' in sample ? 'containerPort' : 'port';
  return null; // anything else (args, tolerations, ...) is replaced whole
}

export function strategicMerge(base, patch, field = '') {
  if (Array.isArray(patch)) {
    const directive = patch.find((i) => isMap(i) && i.$patch === 'replace');
    const items = patch.filter((i) => !(isMap(i) && '$patch' in i));
    if (directive || !Array.isArray(base)) return clone(items);
    const key = mergeKey(field, [...base, ...items]);
    if (!key) return clone(items);
    const out = clone(base);
    for (const item of items) {
      const i = out.findIndex((b) => isMap(b) && b[key] === item[key]);
      if (i >= 0) out[i] = strategicMerge(out[i], item, field);
      else out.push(clone(item));
    }
    return out;
  }
  if (!isMap(patch)) return clone(patch);
  const out = isMap(base) ? clone(base) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = strategicMerge(out[k], v, k);
  }
  return out;
}
