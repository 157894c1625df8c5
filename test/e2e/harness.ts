/**
 * End-to-end harness: runs the built CLI (dist/spoon.js) against the real engine.
 * Each test file gets its own state dir and HOME, labels everything it creates
 * with a run id, and removes it all by label afterwards, pass or fail. Assertions
 * about engine objects use the small API client below, not spoon's own.
 */
import { defaultImageTag as defaultTagOfThisSpoon } from '../../src/images/default-image.js';
import { after, before } from 'node:test';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const SPOON = join(ROOT, 'dist', 'spoon.js');
export const SOCKET = '/var/run/docker.sock';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** One test file's sandbox: names, state dir, labels and teardown. */
export class Sandbox {
  readonly runId = randomBytes(3).toString('hex');
  readonly label = `test.spoon.run=${this.runId}`;
  readonly dir = mkdtempSync(join(tmpdir(), 'spoon-e2e-'));
  readonly stateHome = join(this.dir, 'state');
  readonly home = join(this.dir, 'home');

  /** A NAME unique to this run. */
  name(suffix: string): string {
    return `t${this.runId}-${suffix}`;
  }

  env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
    const env: Record<string, string | undefined> = { ...process.env, XDG_STATE_HOME: this.stateHome, HOME: this.home, ...extra };
    for (const k of Object.keys(env)) if (k.startsWith('SPOON_') && !(k in extra)) delete env[k];
    if (!('DOCKER_HOST' in extra)) delete env.DOCKER_HOST;
    return env;
  }

  /** Runs `spoon ARGS` to completion (no TTY), capturing its output. */
  spoon(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolvePromise, reject) => {
      const child = spawn(process.execPath, [SPOON, ...args], { env: this.env(opts.env), stdio: ['pipe', 'pipe', 'pipe'], cwd: opts.cwd ?? this.dir });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`spoon ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 180_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
      }, opts.timeoutMs ?? 180_000);
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolvePromise({ code: code ?? (signal === 'SIGINT' ? 130 : -1), stdout, stderr });
      });
      child.stdin.end(opts.input ?? '');
    });
  }

  /** `spoon up NAME -N` with this run's label, failing the test if it fails. */
  async up(name: string, extra: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    const r = await this.spoon(['up', name, '-N', '--label', this.label, ...extra], opts);
    if (r.code !== 0) throw new Error(`spoon up ${name} failed (${r.code}): ${r.stderr}`);
    return r;
  }

  /** Removes this run's containers and volumes from the engine on `socketPath` (Docker's by default), then the state dir. */
  async cleanup(socketPath = SOCKET): Promise<void> {
    const call = <T>(method: string, path: string) => apiAt<T>(socketPath, method, path);
    const filters = encodeURIComponent(JSON.stringify({ label: [this.label] }));
    const containers = (await call<{ Id: string }[]>('GET', `/containers/json?all=1&filters=${filters}`)).body ?? [];
    await Promise.all(containers.map((c) => call('DELETE', `/containers/${c.Id}?force=1`)));
    const volumes = (await call<{ Volumes: { Name: string }[] | null }>('GET', `/volumes?filters=${filters}`)).body?.Volumes ?? [];
    await Promise.all(volumes.map((v) => call('DELETE', `/volumes/${v.Name}`)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Creates a sandbox for the calling test file, checks the engine first, cleans up after. */
export function useSandbox(): Sandbox {
  const box = new Sandbox();
  before(async () => {
    await requireEngine();
  });
  after(async () => {
    await box.cleanup();
  });
  return box;
}

async function requireEngine(): Promise<void> {
  try {
    const r = await api('GET', '/_ping');
    if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
  } catch (err) {
    throw new Error(
      `no engine answers on ${SOCKET} (${String(err)}): the end-to-end tests need one. Run scripts/setup-engine.sh, or set SPOON_SKIP_E2E=1 to skip them on purpose.`,
    );
  }
}

/** A minimal Engine API client for assertions, independent of spoon's. */
export function api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T | undefined }> {
  return apiAt<T>(SOCKET, method, path, body);
}

/** api() against the engine on another unix socket (e.g. Podman's). */
export function apiAt<T = unknown>(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T | undefined }> {
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      { socketPath, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: T | undefined;
          try {
            parsed = text ? (JSON.parse(text) as T) : undefined;
          } catch {
            parsed = text as unknown as T;
          }
          resolvePromise({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export interface Inspect {
  Id: string;
  Name: string;
  State: { Status: string; StartedAt: string };
  Config: { Labels: Record<string, string>; Image: string };
  HostConfig: { PortBindings: Record<string, { HostIp: string; HostPort: string }[]>; Mounts?: { Type: string; Source: string; Target: string }[] };
  NetworkSettings: { Ports: Record<string, { HostIp: string; HostPort: string }[] | null> };
}

export async function inspect(nameOrId: string): Promise<Inspect | undefined> {
  const r = await api<Inspect>('GET', `/containers/${nameOrId}/json`);
  return r.status === 200 ? r.body : undefined;
}

/**
 * Runs a command in a container through the Engine API, as root, and returns its exit
 * code: for injecting faults. Attached (its output is dropped): Podman 4.3 keeps
 * reporting a detached exec as running after it ended.
 */
export async function engineExec(container: string, cmd: string[], socketPath = SOCKET): Promise<number> {
  const made = await apiAt<{ Id: string }>(socketPath, 'POST', `/containers/${container}/exec`, { Cmd: cmd, User: 'root', AttachStdout: true, AttachStderr: true });
  if (made.status !== 201 || !made.body) throw new Error(`exec in ${container}: HTTP ${made.status}`);
  await apiAt(socketPath, 'POST', `/exec/${made.body.Id}/start`, { Detach: false });
  return waitFor(`exec ${cmd.join(' ')} to end`, async () => {
    const r = await apiAt<{ Running: boolean; ExitCode: number }>(socketPath, 'GET', `/exec/${made.body?.Id}/json`);
    return r.body && !r.body.Running ? r.body.ExitCode : undefined;
  });
}

export async function containersLabelled(label: string): Promise<{ Id: string; Names: string[]; State: string }[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  return (await api<{ Id: string; Names: string[]; State: string }[]>('GET', `/containers/json?all=1&filters=${filters}`)).body ?? [];
}

export async function volumeExists(name: string): Promise<boolean> {
  return (await api('GET', `/volumes/${name}`)).status === 200;
}

/** Runs a host program to completion (ssh, ssh-keyscan, tmux). */
export function host(cmd: string, args: string[], input?: string, env?: Record<string, string | undefined>): RunResult {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000, ...(env ? { env } : {}) });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The tag of spoon's default image (built by the first test that needed it). */
/** spoon's default image as this spoon tags it (the hash of its embedded Dockerfile); an error until it is built. */
export async function defaultImageTag(): Promise<string> {
  const tag = defaultTagOfThisSpoon();
  if ((await api('GET', `/images/${tag}/json`)).status !== 200) throw new Error(`spoon's default image ${tag} is not built yet`);
  return tag;
}

/** A loopback port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The first bytes something on 127.0.0.1:port sends (an sshd's banner), or undefined. */
export function readBanner(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    sock.setTimeout(2000, () => (sock.destroy(), resolve(undefined)));
    sock.once('data', (d: Buffer) => (sock.destroy(), resolve(d.toString())));
    sock.once('error', () => resolve(undefined));
    sock.once('close', () => resolve(undefined));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every 25 ms until it returns a value, or fails after `timeoutMs` saying `what`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
