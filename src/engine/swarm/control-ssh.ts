/**
 * Root access to a Swarm env over its own sshd, for what the Docker backend does with
 * the engine's exec and archive calls (the manager cannot make those on a worker's
 * container). spoon logs in as root with a throwaway key certified by the env's user CA
 * for the principal "spoon-control"; the env's host key is pinned from the service.
 *
 * A minimal stand-in with the agreed signatures; the s2-control branch owns this file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import type { DirEntry, ExecProcess, ExecSpec, FileEntry } from '../engine.js';
import { RuntimeError } from '../../errors.js';
import { generateEd25519 } from '../../ssh/keys.js';
import { shellQuote } from '../../ssh/args.js';
import { SSH_BINARY, exitStatusFor } from '../../ssh/spawn.js';

export interface ControlTarget {
  host: string;
  port: number;
  hostPublicKey: string;
  caPrivateKey: string;
}

const PRINCIPAL = 'spoon-control';
const CONTROL_DIR = '/etc/spoon/control';

/** sshd_config lines (global section, before any Match) that let a certificate signed by the env's CA with principal "spoon-control" log in as root. */
export function controlSshdLines(): string[] {
  return [
    // sshd takes the first value of most keywords: these go before spoon's own lines.
    'PermitRootLogin prohibit-password',
    'AllowUsers root',
    `TrustedUserCAKeys ${CONTROL_DIR}/ca.pub`,
    `AuthorizedPrincipalsFile ${CONTROL_DIR}/principals/%u`,
  ];
}

/** Files the env needs for that: the CA public key and root's principals file. */
export function controlFiles(caPublicKey: string): FileEntry[] {
  return [
    { path: `${CONTROL_DIR}/ca.pub`, content: caPublicKey.trim() + '\n', mode: 0o644 },
    { path: `${CONTROL_DIR}/principals/root`, content: `${PRINCIPAL}\n`, mode: 0o644 },
  ];
}

interface Credentials {
  dir: string;
  args: string[];
}

const credentials = new Map<string, Credentials>();

/** A certified throwaway key and a known_hosts file for this target, made once per process. */
function credentialsFor(target: ControlTarget): Credentials {
  const key = `${target.host}:${target.port}:${target.hostPublicKey}`;
  const found = credentials.get(key);
  if (found) return found;
  const dir = mkdtempSync(join(tmpdir(), 'spoon-control-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const client = generateEd25519('spoon-control');
  writeFileSync(join(dir, 'ca'), target.caPrivateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'id'), client.privateKey, { mode: 0o600 });
  writeFileSync(join(dir, 'id.pub'), client.publicKey + '\n');
  const signed = spawnSync('ssh-keygen', ['-q', '-s', join(dir, 'ca'), '-I', PRINCIPAL, '-n', PRINCIPAL, '-V', '-5m:+12h', join(dir, 'id.pub')], { encoding: 'utf8' });
  rmSync(join(dir, 'ca'), { force: true });
  if (signed.status !== 0) throw new RuntimeError(`cannot certify spoon's control key: ${(signed.stderr || signed.error?.message || '').trim()}`, { hint: 'install ssh-keygen (openssh-client)' });
  const [type, blob] = target.hostPublicKey.trim().split(/\s+/);
  writeFileSync(join(dir, 'known_hosts'), `[${target.host}]:${target.port} ${type} ${blob}\n`);
  const args = [
    '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes',
    '-o', `IdentityFile=${join(dir, 'id')}`,
    '-o', `CertificateFile=${join(dir, 'id-cert.pub')}`,
    '-o', `UserKnownHostsFile=${join(dir, 'known_hosts')}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'LogLevel=ERROR',
    '-o', 'ConnectTimeout=10',
    '-p', String(target.port),
    '-l', 'root',
  ];
  const made = { dir, args };
  credentials.set(key, made);
  return made;
}

function remoteCommand(spec: ExecSpec): string {
  let argv = spec.cmd;
  if (spec.user && spec.user !== 'root' && spec.user !== '0') argv = ['runuser', '-u', spec.user, '--', ...argv];
  if (spec.env?.length) argv = ['env', ...spec.env, ...argv];
  const line = `exec ${shellQuote(argv)}`;
  return spec.workdir ? `cd ${shellQuote([spec.workdir])} && ${line}` : line;
}

export async function controlExec(target: ControlTarget, spec: ExecSpec): Promise<ExecProcess> {
  const { args } = credentialsFor(target);
  const child = spawn(SSH_BINARY, [...args, spec.tty ? '-tt' : '-T', '--', target.host, remoteCommand(spec)], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (!spec.stdin) child.stdin.end();
  const stderr = spec.tty ? undefined : child.stderr;
  if (spec.tty) child.stderr.resume();
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve(code ?? exitStatusFor(signal)));
  });
  return {
    stdout: child.stdout,
    stderr,
    stdin: spec.stdin ? child.stdin : undefined,
    resize: async () => {},
    wait: () => exited,
    close: () => child.kill(),
  };
}

async function run(target: ControlTarget, command: string, input?: NodeJS.ReadableStream): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  const p = await controlExec(target, { cmd: ['sh', '-c', command], tty: false, stdin: input !== undefined });
  const out: Buffer[] = [];
  let err = '';
  p.stdout.on('data', (d: Buffer) => out.push(d));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  if (input && p.stdin) input.pipe(p.stdin);
  const code = await p.wait();
  return { code, stdout: Buffer.concat(out), stderr: err };
}

export async function controlPutFiles(target: ControlTarget, dirs: DirEntry[], files: FileEntry[]): Promise<void> {
  const { tarOf } = await import('../docker/archive.js');
  const body = tarOf(dirs, files).pipe(new PassThrough());
  const r = await run(target, 'tar -xpf - --numeric-owner -C /', body);
  if (r.code !== 0) throw new RuntimeError(`copying files into the env over ssh failed: ${r.stderr.trim() || `exit ${r.code}`}`);
}

export async function controlReadFile(target: ControlTarget, path: string): Promise<Buffer | undefined> {
  const r = await run(target, `[ -f ${shellQuote([path])} ] || exit 44; cat -- ${shellQuote([path])}`);
  if (r.code === 44) return undefined;
  if (r.code !== 0) throw new RuntimeError(`reading ${path} in the env over ssh failed: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r.stdout;
}
