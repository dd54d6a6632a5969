// Runs Taskfile.yaml tasks the way go-task would for the subset the Taskfile uses
// (go-task itself cannot be installed here): `cmds` run in order with bash in the
// repository root, `- task: NAME` runs another task, `env:` and `vars:` with
// `{{.VAR}}` / `{{.VAR | default "x"}}` templates. Anything else in a task is refused.
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import YAML from 'yaml';

const TASK_FIELDS = new Set(['desc', 'cmds', 'env', 'vars']);

export function loadTaskfile(file) {
  const tf = YAML.parse(fs.readFileSync(file, 'utf8'));
  if (String(tf.version) !== '3') throw new Error(`${file}: version must be "3"`);
  for (const key of Object.keys(tf)) {
    if (!['version', 'tasks'].includes(key)) throw new Error(`${file}: top-level '${key}' is not supported here`);
  }
  for (const [name, t] of Object.entries(tf.tasks)) {
    for (const key of Object.keys(t)) {
      if (!TASK_FIELDS.has(key)) throw new Error(`task ${name}: '${key}' is not supported here (no deps: steps run in order)`);
    }
    if (!Array.isArray(t.cmds) || t.cmds.length === 0) throw new Error(`task ${name}: no cmds`);
  }
  return tf;
}

export function template(s, vars) {
  return String(s).replace(/\{\{\s*\.(\w+)\s*(?:\|\s*default\s+"([^"]*)"\s*)?\}\}/g,
    (_, name, def) => (vars[name] !== undefined && vars[name] !== '' ? vars[name] : (def ?? '')));
}

// plan(tf, name, vars): the shell commands `task NAME` runs, in order, with their env.
export function plan(tf, name, vars = {}, stack = []) {
  const t = tf.tasks[name];
  if (!t) throw new Error(`task '${name}' does not exist${stack.length ? ` (called from ${stack.join(' -> ')})` : ''}`);
  if (stack.includes(name)) throw new Error(`task cycle: ${[...stack, name].join(' -> ')}`);
  const v = { ...vars };
  for (const [k, val] of Object.entries(t.vars || {})) v[k] = template(val, vars);
  const env = Object.fromEntries(Object.entries(t.env || {}).map(([k, val]) => [k, template(val, v)]));
  const steps = [];
  for (const c of t.cmds) {
    if (typeof c === 'string') steps.push({ task: name, cmd: template(c, v), env });
    else if (c && c.task) steps.push(...plan(tf, c.task, { ...v, ...(c.vars || {}) }, [...stack, name]));
    else throw new Error(`task ${name}: unsupported cmd ${JSON.stringify(c)}`);
  }
  return steps;
}

// run(tf, name, {cwd, env, vars}): run the plan, stop at the first failing command. The
// timeout is generous: a whole `task setup` against the stand-ins took 30-60 s on two
// shared, busy cores.
export function run(tf, name, { cwd, env, vars = {}, timeoutMs = 180000 }) {
  let stdout = '';
  let stderr = '';
  for (const step of plan(tf, name, vars)) {
    const r = spawnSync('bash', ['-c', step.cmd], {
      cwd, env: { ...env, ...step.env }, encoding: 'utf8', timeout: timeoutMs,
    });
    stdout += r.stdout || '';
    stderr += r.stderr || '';
    if (r.error) throw r.error;
    if (r.status !== 0) return { status: r.status, stdout, stderr, failed: step.cmd };
  }
  return { status: 0, stdout, stderr };
}
