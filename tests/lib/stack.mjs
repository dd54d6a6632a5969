// PostgreSQL + Redis of a test file's own, on free loopback ports in a temporary directory,
// started and stopped with the functions of scripts/lib.sh (stack_tmpdir, pg_start, redis_start,
// ...), so that shell scripts and JS suites run the same servers the same way. No mocks.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// lib FN ARGS...: run a function of scripts/lib.sh; returns its stdout.
export function lib(fn, ...args) {
  return execFileSync('bash', ['-c', `. "${ROOT}/scripts/lib.sh"; ${fn} "$@"`, 'lib', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8',
  });
}
// libAsync: the same without blocking the event loop (a workload keeps running meanwhile).
export async function libAsync(fn, ...args) {
  const { stdout } = await promisify(execFile)('bash', ['-c', `. "${ROOT}/scripts/lib.sh"; ${fn} "$@"`, 'lib', ...args],
    { timeout: 120000, encoding: 'utf8' });
  return stdout;
}
export const PGBIN = lib('printf "%s" "$PGBIN"');

export function alive(pid) {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

// The stack: PostgreSQL (trust authentication: any DB_PASSWORD is accepted) and Redis
// (requirepass when a password is given).
export class Stack {
  constructor({ redisPassword = '' } = {}) { this.redisPassword = redisPassword; }
  async start() {
    this.dir = lib('stack_tmpdir', 'it').trim();
    this.pgPort = await freePort();
    this.redisPort = await freePort();
    this.startPg();
    this.startRedis();
    return this;
  }
  startPg() { lib('pg_start', join(this.dir, 'pg'), String(this.pgPort)); }
  // mode: fast (a shutdown) or immediate (a crash); waits until the postmaster is gone.
  stopPg(mode = 'fast') { lib('pg_stop', join(this.dir, 'pg'), mode); }
  pgPid() {
    const f = join(this.dir, 'pg', 'data', 'postmaster.pid');
    return existsSync(f) ? Number(readFileSync(f, 'utf8').split('\n')[0]) : 0;
  }
  startRedis() { lib('redis_start', join(this.dir, 'redis'), String(this.redisPort), this.redisPassword); }
  stopRedis() { lib('redis_stop', join(this.dir, 'redis')); }
  redisPid() {
    try { return Number(readFileSync(join(this.dir, 'redis', 'redis.pid'), 'utf8').trim()); } catch { return 0; }
  }
  // Send Redis a signal (SIGKILL: a crash, SIGSTOP/SIGCONT: a freeze); waits until a killed
  // or terminated Redis is gone.
  killRedis(signal = 'SIGKILL') {
    const pid = this.redisPid();
    if (!pid) return;
    try { process.kill(pid, signal); } catch { return; }
    if (signal !== 'SIGKILL' && signal !== 'SIGTERM') return;
    for (let i = 0; i < 100 && alive(pid); i++) execFileSync('sleep', ['0.05']);
  }
  psql(sql) {
    return execFileSync(join(PGBIN, 'psql'), ['-h', '127.0.0.1', '-p', String(this.pgPort), '-U', 'app',
      '-d', 'webapp', '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' }).trim();
  }
  redis(...args) {
    const env = { ...process.env, REDISCLI_AUTH: this.redisPassword };
    return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(this.redisPort), ...args],
      { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  }
  // What points a server at this stack (as stack_env in scripts/lib.sh).
  env() {
    return {
      DB_HOST: '127.0.0.1', DB_PORT: String(this.pgPort), DB_USER: 'app', DB_NAME: 'webapp',
      REDIS_HOST: '127.0.0.1', REDIS_PORT: String(this.redisPort),
      ...(this.redisPassword ? { REDIS_PASSWORD: this.redisPassword } : {}),
    };
  }
  // Stop Redis (thawed first) and PostgreSQL; the directory goes too unless keep is set
  // (remove() deletes it later, after the caller has copied the logs it wants).
  stop({ keep = false } = {}) {
    if (!this.dir) return;
    try { this.killRedis('SIGCONT'); } catch { /* not frozen */ }
    try { this.stopRedis(); } catch { /* already stopped */ }
    try { this.stopPg(); } catch { /* already stopped */ }
    if (!keep) this.remove();
  }
  remove() { if (this.dir) rmSync(this.dir, { recursive: true, force: true }); }
}
