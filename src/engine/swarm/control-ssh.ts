/**
 * Root control of an env over its own sshd, for engines whose API cannot reach the
 * env's node (Docker Swarm: exec and the archive API are per-node calls the manager
 * cannot make; issue 13). Each env has its own SSH user CA; spoon keeps the CA's private
 * key, the env trusts the CA for root only, and only for certificates with the principal
 * `spoon-control`. Per process, spoon makes a throwaway client key in a private temp
 * dir, has the CA sign it for ten minutes, and reaches the env through one ControlMaster
 * per target, so several calls in one command cost one handshake.
 *
 * Everything goes through the system OpenSSH client, pinned to the env's host key.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';
import type { DirEntry, ExecProcess, ExecSpec, FileEntry } from '../engine.js';
import { connectionOptions, shellQuote, type SshTarget } from '../../ssh/args.js';
import { generateEd25519, parsePublicKey } from '../../ssh/keys.js';
import { SSH_BINARY, exitStatusFor, masterAlive, startMaster } from '../../ssh/spawn.js';
import { RuntimeError } from '../../errors.js';

export interface ControlTarget {
  host: string;
  port: number;
  /** The env's host key, `ssh-ed25519 AAAA...`: the only key this connection accepts. */
  hostPublicKey: string;
  /** The env's CA: OpenSSH private key text, as src/ssh/keys.ts generateEd25519 produces. */
  caPrivateKey: string;
}

/** The certificate's principal; the env's root admits this one name and nothing else. */
export const CONTROL_PRINCIPAL = 'spoon-control';
export const CONTROL_CA_FILE = '/etc/spoon/control-ca.pub';
export const CONTROL_PRINCIPALS_FILE = '/etc/spoon/control-principals';

/**
 * sshd_config lines that let a certificate signed by the env's CA with principal
 * `spoon-control` log in as root, and nothing else new. Put them at the end of the
 * global section, just before the first `Match` line (or at the end when there is
 * none): they end with a `Match User root` block of their own, which the next Match
 * line closes. Why a Match block: sshd keeps the FIRST value of most keywords, so a
 * later global `PermitRootLogin` could not override spoon's `PermitRootLogin no`; a
 * matching block does. AllowUsers is the exception (every line adds to the list), so
 * root is added to it globally.
 *
 * Root gets no authorized_keys file at all (AuthorizedKeysFile none): a plain key is
 * refused whatever files exist, and the CA is trusted for root alone.
 */
export function controlSshdLines(): string[] {
  return [
    '# spoon control: root by certificate from this env\'s CA only (principal ' + CONTROL_PRINCIPAL + ')',
    'AllowUsers root',
    'Match User root',
    '    PermitRootLogin prohibit-password',
    '    AuthorizedKeysFile none',
    `    TrustedUserCAKeys ${CONTROL_CA_FILE}`,
    `    AuthorizedPrincipalsFile ${CONTROL_PRINCIPALS_FILE}`,
    '    PasswordAuthentication no',
    '    KbdInteractiveAuthentication no',
    '    DisableForwarding yes',
    '    PermitTTY yes',
  ];
}

/**
 * spoon's sshd_config with the control lines in: right before its first Match block (or at
 * the end), the one place where the global lines before stay global and the root block
 * holds only what follows it.
 */
export function withControlLines(sshdConfig: string): string {
  const lines = sshdConfig.split('\n');
  const at = lines.findIndex((l) => /^\s*Match\s/i.test(l));
  lines.splice(at < 0 ? lines.length : at, 0, ...controlSshdLines());
  return lines.join('\n');
}

/**
 * The CA public key and root's principals file. The principal line carries `restrict,pty`
 * so that even a certificate issued with every permission gets a terminal and nothing
 * else (no forwarding, no ~/.ssh/rc).
 */
export function controlFiles(caPublicKey: string): FileEntry[] {
  const key = parsePublicKey(caPublicKey.trim());
  if (!key) throw new RuntimeError(`the env's control CA is not an OpenSSH public key: ${caPublicKey.slice(0, 40)}`);
  return [
    { path: CONTROL_CA_FILE, content: `${key.type} ${key.blob} spoon-control-ca\n`, mode: 0o644, uid: 0, gid: 0 },
    { path: CONTROL_PRINCIPALS_FILE, content: `restrict,pty ${CONTROL_PRINCIPAL}\n`, mode: 0o644, uid: 0, gid: 0 },
  ];
}

/** Why the control connection failed, for callers that react differently (doctor, healing). */
export type ControlFailure = 'host-key' | 'refused' | 'denied' | 'unreachable' | 'ssh';

export class ControlSshError extends RuntimeError {
  constructor(
    readonly reason: ControlFailure,
    message: string,
    hint: string,
  ) {
    super(message, { hint });
  }
}

/** Turns what ssh said on stderr into a typed error naming the target. */
export function controlFailure(target: Pick<ControlTarget, 'host' | 'port'>, stderr: string): ControlSshError {
  const where = `${target.host}:${target.port}`;
  const said = lastLines(stderr);
  if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed|host key .* (?:differs|mismatch)|No ED25519 host key is known/i.test(stderr)) {
    return new ControlSshError('host-key', `the sshd at ${where} did not present the env's host key`, 'something else answers on that address (another env, or the port was reused), or the env was re-provisioned with a new host key: check the env and its node');
  }
  if (/Connection refused/i.test(stderr)) {
    return new ControlSshError('refused', `nothing accepts ssh connections at ${where} (connection refused)`, 'the env may be stopped, its sshd down, or its port not published on that node: try `spoon doctor`');
  }
  if (/Permission denied|Too many authentication failures|certificate .* (?:invalid|not valid)/i.test(stderr)) {
    return new ControlSshError('denied', `the env at ${where} refused spoon's control certificate`, `its sshd does not trust this env's control CA for root (is ${CONTROL_CA_FILE} the env's, and the control lines in its sshd_config with sshd reloaded?)`);
  }
  if (/timed out|No route to host|Network is unreachable|Could not resolve|Name or service not known|Connection closed|Connection reset/i.test(stderr)) {
    return new ControlSshError('unreachable', `cannot reach ${where}: ${said}`, "check that the env's node is up and its address reachable from here");
  }
  return new ControlSshError('ssh', `ssh to ${where} failed${said ? `: ${said}` : ''}`, 'run again with the same target; if it persists, check the env with `spoon doctor`');
}

function lastLines(text: string): string {
  // The host-key warning's box of @ lines says nothing the message does not.
  return text.trim().split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('@')).slice(-2).join(' / ');
}

// ---------------------------------------------------------------------------------
// The command line run in the env (pure, unit-tested)
// ---------------------------------------------------------------------------------

/** Who a command runs as: the engine's exec semantics (`name`, `uid`, `name:group`, `uid:gid`). */
export interface ExecIdentity {
  uid: number;
  gid: number;
  /** From /etc/passwd; undefined for a uid it does not list. */
  name: string | undefined;
  home: string;
  /** Supplementary groups: those /etc/group lists the user in, none when a group is given (the engine's rule). */
  groups: number[];
}

/** Resolves ExecSpec.user against the env's /etc/passwd and /etc/group, as the engine does. */
export function resolveIdentity(user: string | undefined, passwd: string, group: string): ExecIdentity {
  const spec = user && user.trim() ? user.trim() : 'root';
  const [userPart = '', groupPart] = spec.split(':', 2);
  const users = parseColonFile(passwd);
  const entry = /^\d+$/.test(userPart) ? users.find((f) => f[2] === userPart) : users.find((f) => f[0] === userPart);
  if (!entry && !/^\d+$/.test(userPart)) throw new RuntimeError(`no user '${userPart}' in the env's /etc/passwd`, { hint: 'name a user the image has, or give a numeric uid' });
  const uid = entry ? Number(entry[2]) : Number(userPart);
  let gid = entry ? Number(entry[3]) : 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (/^\d+$/.test(groupPart)) gid = Number(groupPart);
    else {
      const g = parseColonFile(group).find((f) => f[0] === groupPart);
      if (!g) throw new RuntimeError(`no group '${groupPart}' in the env's /etc/group`, { hint: 'name a group the image has, or give a numeric gid' });
      gid = Number(g[2]);
    }
  }
  const name = entry?.[0];
  const groups =
    name === undefined || (groupPart !== undefined && groupPart !== '')
      ? []
      : parseColonFile(group)
          .filter((f) => (f[3] ?? '').split(',').includes(name))
          .map((f) => Number(f[2]));
  return { uid, gid, name, home: entry?.[5] || '/', groups };
}

function parseColonFile(text: string): string[][] {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/** PID 1's environment (`/proc/1/environ`): the container's env, as the engine's exec starts from. */
export function parseEnviron(raw: Buffer): string[] {
  return raw
    .toString('utf8')
    .split('\0')
    .filter((e) => e.indexOf('=') > 0);
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment the command gets: the container's, HOME from the user's passwd entry
 * (PID 1's HOME is root's), then spec.env over both, like the engine's exec.
 */
export function execEnvironment(containerEnv: string[], who: ExecIdentity, extra: string[] = []): string[] {
  const merged = new Map<string, string>();
  const put = (entry: string) => {
    const i = entry.indexOf('=');
    if (i > 0) merged.set(entry.slice(0, i), entry);
  };
  containerEnv.forEach(put);
  if (!merged.has('PATH')) put(DEFAULT_PATH);
  put(`HOME=${who.home}`);
  extra.forEach(put);
  return [...merged.values()];
}

/** Where PTY mode announces its terminal, ahead of the command's output (and cut from it). */
export const PTY_MARK = 'spoon-control-pty ';

/**
 * The command line for root's login shell in the env. The user's words stay argv: they
 * are quoted for that shell and reach the command through `"$@"`, never parsed again.
 *
 * Changing user: setpriv (util-linux; on Debian, Ubuntu, Fedora) sets exactly the uid,
 * gid and groups the engine would, takes numeric ids without a passwd entry, and adds no
 * PAM session or environment of its own. Images without it (Alpine, busybox) have `su`,
 * which needs a passwd name and always gives the user's own groups (initgroups).
 * runuser was not chosen: util-linux only (so no gain over setpriv), PAM, names only.
 *
 * The wrapper shell does not `exec` the command, so a command killed by a signal reports
 * 128+n (as the engine's exec does) instead of ssh's 255.
 */
export function execCommandLine(spec: Pick<ExecSpec, 'cmd' | 'tty'>, who: ExecIdentity, env: string[], workdir: string): string {
  const dir = workdir.startsWith('/') ? workdir : `./${workdir}`;
  const run = shellQuote(['env', '-i', '--', ...env, '/bin/sh', '-c', 'cd "$1" || exit 126; shift; "$@"; exit $?', 'spoon-exec', dir, ...spec.cmd]);
  // ssh gives the terminal no modes when its own input is not one (no eof, no intr):
  // stty sane makes it the ordinary terminal the engine's exec would give.
  const announce = spec.tty ? `stty sane 2>/dev/null; printf '${PTY_MARK}%s\\n' "$(tty)"; ` : '';
  if (who.uid === 0 && who.gid === 0) return `${announce}exec ${run}`;
  const groups = who.groups.length ? `--groups=${who.groups.join(',')}` : '--clear-groups';
  const viaSetpriv = `exec setpriv --reuid=${who.uid} --regid=${who.gid} ${groups} ${run}`;
  const viaSu =
    who.name !== undefined
      ? `exec su -s /bin/sh ${shellQuote([who.name])} -c ${shellQuote([run])}`
      : `echo ${shellQuote([`spoon: the env has no setpriv, and su cannot run as uid ${who.uid} (no passwd entry)`])} >&2; exit 126`;
  return `${announce}if command -v setpriv >/dev/null 2>&1; then ${viaSetpriv}; fi; ${viaSu}`;
}

const MARK = 'spoon-control-part';

/** One round trip for what execCommandLine needs: passwd, group, PID 1's working dir and environment. */
export const PRELUDE = `cat /etc/passwd 2>/dev/null; echo; echo ${MARK}; cat /etc/group 2>/dev/null; echo; echo ${MARK}; readlink /proc/1/cwd 2>/dev/null || echo /; echo ${MARK}; cat /proc/1/environ 2>/dev/null`;

export function parsePrelude(out: Buffer): { passwd: string; group: string; cwd: string; environ: string[] } {
  const sep = Buffer.from(`\n${MARK}\n`);
  const parts: Buffer[] = [];
  let rest = out;
  for (let i = 0; i < 3; i++) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.subarray(0, at));
    rest = rest.subarray(at + sep.length);
  }
  if (parts.length < 3) throw new RuntimeError('reading the env\'s users and environment over ssh gave an unexpected answer', { hint: "root's login shell in the env may print something of its own: check /root/.profile and /root/.bashrc" });
  const text = (b: Buffer | undefined) => (b ?? Buffer.alloc(0)).toString('utf8');
  return { passwd: text(parts[0]), group: text(parts[1]), cwd: text(parts[2]).trim() || '/', environ: parseEnviron(rest) };
}

export function readFileCommand(path: string): string {
  return `p=${shellQuote([path])}; [ -f "$p" ] || exit ${MISSING}; exec cat -- "$p"`;
}

/** readFile's answer for "no such file" (a regular file only: the archive API would not give a directory's content either). */
const MISSING = 44;

export const PUT_COMMAND = 'exec tar -x -p -f - -C /';

// ---------------------------------------------------------------------------------
// Keys, certificates and masters, per process
// ---------------------------------------------------------------------------------

interface Session {
  dir: string;
  keyFile: string;
  certs: Map<string, Promise<{ certFile: string; signedAt: number }>>;
  masters: Map<string, Promise<string>>;
}

let session: Session | undefined;

/** Re-sign well before the ten minutes run out; a master already up keeps working regardless. */
const CERT_REUSE_MS = 5 * 60_000;
/** How long an idle master lingers: short, so one orphaned by a killed spoon goes away soon. */
const MASTER_PERSIST = '60';

function current(): Session {
  if (session) return session;
  const dir = mkdtempSync(join(tmpdir(), 'spoon-control-'));
  chmodSync(dir, 0o700);
  const key = generateEd25519('spoon-control');
  const keyFile = join(dir, 'id');
  writeFileSync(keyFile, key.privateKey, { mode: 0o600 });
  writeFileSync(`${keyFile}.pub`, key.publicKey + '\n', { mode: 0o600 });
  const s: Session = { dir, keyFile, certs: new Map(), masters: new Map() };
  session = s;
  process.once('exit', () => closeControl());
  return s;
}

/**
 * Ends this process's masters and removes the temp dir (key, certificates, sockets).
 * Runs by itself at exit; callers may call it earlier.
 */
export function closeControl(): void {
  const s = session;
  if (!s) return;
  session = undefined;
  for (const file of s.masters.keys()) {
    spawnSync(SSH_BINARY, ['-F', 'none', '-S', join(s.dir, file), '-O', 'exit', 'spoon-control'], { stdio: 'ignore', timeout: 5000 });
  }
  rmSync(s.dir, { recursive: true, force: true });
}

function fingerprint(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 16);
}

/** A certificate for this process's key, signed by the target's CA (the CA key touches the disk only while ssh-keygen reads it). */
async function certificate(s: Session, caPrivateKey: string): Promise<string> {
  const id = fingerprint(caPrivateKey);
  const cached = s.certs.get(id);
  if (cached) {
    const c = await cached.catch(() => undefined);
    if (c && Date.now() - c.signedAt < CERT_REUSE_MS) return c.certFile;
  }
  const made = (async () => {
    const base = join(s.dir, `c-${id}`);
    writeFileSync(`${base}.pub`, readPublic(s.keyFile), { mode: 0o600 });
    const caFile = join(s.dir, `ca-${randomBytes(6).toString('hex')}`);
    writeFileSync(caFile, caPrivateKey, { mode: 0o600 });
    try {
      const r = await run('ssh-keygen', ['-q', '-s', caFile, '-I', CONTROL_PRINCIPAL, '-n', CONTROL_PRINCIPAL, '-V', '-1m:+10m', '-O', 'clear', '-O', 'permit-pty', `${base}.pub`]);
      if (r.code !== 0) throw new RuntimeError(`signing spoon's control certificate failed: ${r.stderr.toString().trim() || `ssh-keygen exited ${r.code}`}`, { hint: "the env's CA key spoon keeps may be damaged" });
    } finally {
      rmSync(caFile, { force: true });
    }
    chmodSync(`${base}-cert.pub`, 0o600);
    return { certFile: `${base}-cert.pub`, signedAt: Date.now() };
  })();
  s.certs.set(id, made);
  return (await made).certFile;
}

function readPublic(keyFile: string): string {
  return readFileSync(`${keyFile}.pub`, 'utf8');
}

interface Connection {
  base: string[];
  destination: string;
  controlPath: string;
}

/** Options and destination for a session through the target's master, starting it (or again, after it lapsed) when needed. */
async function connect(target: ControlTarget): Promise<Connection> {
  if (!target.host || target.host.startsWith('-')) throw new RuntimeError(`not a host to connect to: '${target.host}'`);
  const s = current();
  const id = fingerprint(target.host, String(target.port), target.hostPublicKey, target.caPrivateKey);
  const alias = target.port === 22 ? target.host : `[${target.host}]:${target.port}`;
  const knownHostsFile = join(s.dir, `kh-${id}`);
  const controlPath = join(s.dir, `m-${id}`);
  const t: SshTarget = { host: target.host, port: target.port, user: 'root', alias, identityFile: s.keyFile, knownHostsFile, controlPath };
  const certFile = await certificate(s, target.caPrivateKey);
  // ssh keeps the first value of an option: these come before the shared ones.
  const base = ['-o', `CertificateFile=${certFile}`, '-o', 'ClearAllForwardings=yes', '-o', 'PermitLocalCommand=no', ...connectionOptions(t)];
  const destination = `root@${target.host}`;

  const running = s.masters.get(`m-${id}`);
  if (running && (await running.catch(() => undefined)) && (await masterAlive(controlPath))) return { base, destination, controlPath };
  const started = (async () => {
    const key = parsePublicKey(target.hostPublicKey.trim());
    if (!key) throw new RuntimeError(`the env's host key is not an OpenSSH public key: ${target.hostPublicKey.slice(0, 40)}`);
    writeFileSync(knownHostsFile, `${alias} ${key.type} ${key.blob}\n`, { mode: 0o600 });
    const args = ['-f', '-N', '-M', '-S', controlPath, '-o', `ControlPersist=${MASTER_PERSIST}`, ...base, '--', destination];
    const r = await startMaster(args, controlPath, join(s.dir, `log-${id}`));
    if (!r.ok) throw controlFailure(target, r.stderr);
    return controlPath;
  })();
  s.masters.set(`m-${id}`, started);
  try {
    await started;
  } catch (err) {
    s.masters.delete(`m-${id}`);
    throw err;
  }
  return { base, destination, controlPath };
}

function sessionArgv(c: Connection, tty: 'tty' | 'pipe' | 'none', command: string): string[] {
  const io = tty === 'tty' ? ['-tt'] : tty === 'none' ? ['-T', '-n'] : ['-T'];
  return [...io, '-S', c.controlPath, '-o', 'ControlMaster=no', ...c.base, '--', c.destination, command];
}

function run(file: string, args: string[], input?: Readable | Buffer): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new RuntimeError(`the OpenSSH program '${file}' is not installed`, { hint: 'install it (Debian/Ubuntu: apt-get install openssh-client)' }) : e));
    child.on('close', (code, signal) => resolve({ code: code ?? exitStatusFor(signal), stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    // The remote side may end early (tar failed): its error says why, not EPIPE.
    child.stdin.on('error', () => undefined);
    if (!input) child.stdin.end();
    else if (Buffer.isBuffer(input)) child.stdin.end(input);
    else input.pipe(child.stdin);
  });
}

/** Runs a command as root through the master, collecting its output; ssh's own failures become typed errors. */
async function runAsRoot(target: ControlTarget, command: string, input?: Readable): Promise<{ code: number; stdout: Buffer; stderr: Buffer }> {
  const c = await connect(target);
  const r = await run(SSH_BINARY, sessionArgv(c, input ? 'pipe' : 'none', command), input);
  if (r.code === 255 && !(await masterAlive(c.controlPath))) throw controlFailure(target, r.stderr.toString() || 'Connection closed');
  return r;
}

// ---------------------------------------------------------------------------------
// The Engine-like calls
// ---------------------------------------------------------------------------------

/** Like Engine.putFiles: directories, then files, with their modes and owners (a tar unpacked by root at /). */
export async function controlPutFiles(target: ControlTarget, dirs: DirEntry[], files: FileEntry[]): Promise<void> {
  const { tarOf } = await import('../docker/archive.js');
  const r = await runAsRoot(target, PUT_COMMAND, tarOf(dirs, files));
  if (r.code !== 0) {
    throw new RuntimeError(`copying files into the env at ${target.host}:${target.port} failed: ${r.stderr.toString().trim() || `tar exited ${r.code}`}`, { hint: 'the env needs tar; check its disk space with `spoon exec NAME -- df -h`' });
  }
}

/** Like Engine.readFile: the content of a regular file, undefined when there is none at `path`. */
export async function controlReadFile(target: ControlTarget, path: string): Promise<Buffer | undefined> {
  const r = await runAsRoot(target, readFileCommand(path));
  if (r.code === MISSING) return undefined;
  if (r.code !== 0) throw new RuntimeError(`reading ${path} from the env at ${target.host}:${target.port} failed: ${r.stderr.toString().trim() || `exit status ${r.code}`}`);
  return r.stdout;
}

/** Like Engine.exec: spec.cmd as spec.user (root by default) with the container's environment plus spec.env. */
export async function controlExec(target: ControlTarget, spec: ExecSpec): Promise<ExecProcess> {
  if (spec.cmd.length === 0) throw new RuntimeError('no command to run in the env');
  const prelude = await runAsRoot(target, PRELUDE);
  if (prelude.code !== 0) throw new RuntimeError(`reading the env's users over ssh failed: ${prelude.stderr.toString().trim() || `exit status ${prelude.code}`}`);
  const facts = parsePrelude(prelude.stdout);
  const who = resolveIdentity(spec.user, facts.passwd, facts.group);
  const command = execCommandLine(spec, who, execEnvironment(facts.environ, who, spec.env ?? []), spec.workdir || facts.cwd);

  const c = await connect(target);
  const mode = spec.tty ? 'tty' : spec.stdin ? 'pipe' : 'none';
  const child = spawn(SSH_BINARY, sessionArgv(c, mode, command), { stdio: ['pipe', 'pipe', 'pipe'] });
  const sshStderr: Buffer[] = [];
  let spawnError: Error | undefined;
  child.on('error', (e) => (spawnError = e));

  let stdout: Readable = child.stdout;
  let stderr: Readable | undefined = child.stderr;
  let pty: Promise<string | undefined> = Promise.resolve(undefined);
  if (spec.tty) {
    // On a PTY the remote stderr is the terminal too; ssh's own stderr only has ssh's complaints.
    child.stderr.on('data', (d: Buffer) => sshStderr.push(d));
    stderr = undefined;
    const cut = new PtyAnnouncement();
    pty = cut.path;
    stdout = child.stdout.pipe(cut);
  } else {
    // Kept beside the pass-through so a lost connection can be told from the command's 255.
    const tee = new PassThrough();
    child.stderr.on('data', (d: Buffer) => sshStderr.push(d));
    child.stderr.pipe(tee);
    stderr = tee;
  }
  child.stdin.on('error', () => undefined);
  if (mode === 'none') child.stdin.end();
  // sshd ignores an EOF on a terminal's channel; a terminal user ends input with Ctrl-D,
  // so that is what the end of a TTY exec's stdin sends. Without stdin, a TTY exec keeps
  // its input open, as the engine's does.
  let stdin: Writable | undefined;
  if (spec.stdin && spec.tty) {
    const input = new PassThrough();
    let lineOpen = false;
    // Held until the terminal is set up: what arrives before stty sane meets no eof character.
    void pty.then(() => {
      input.on('data', (d: Buffer) => d.length && (lineOpen = d[d.length - 1] !== 0x0a));
      input.pipe(child.stdin, { end: false });
    });
    // A Ctrl-D after a partial line only sends that line; a second one is the EOF.
    input.on('end', () => child.stdin.write(lineOpen ? '\x04\x04' : '\x04'));
    stdin = input;
  } else if (spec.stdin) stdin = child.stdin;

  const exited = new Promise<number>((resolve, reject) => {
    child.on('close', (code, signal) => (spawnError ? reject(spawnError) : resolve(code ?? exitStatusFor(signal))));
  });
  const outputEnded = new Promise<void>((resolve) => {
    stdout.once('end', resolve);
    stdout.once('close', resolve);
  });
  let status: Promise<number> | undefined;
  return {
    stdout,
    stderr,
    stdin,
    async resize(cols: number, rows: number): Promise<void> {
      if (!spec.tty) return;
      const path = await pty;
      if (!path || !/^\/dev\/[\w/]+$/.test(path)) throw new RuntimeError('the exec has no terminal to resize');
      // Setting the size on the terminal itself signals its foreground processes (SIGWINCH), as sshd would.
      const r = await runAsRoot(target, `stty cols ${Math.max(1, Math.floor(cols))} rows ${Math.max(1, Math.floor(rows))} < ${path}`);
      if (r.code !== 0) throw new RuntimeError(`resizing the terminal failed: ${r.stderr.toString().trim()}`);
    },
    wait(): Promise<number> {
      status ??= (async () => {
        const [code] = await Promise.all([exited, outputEnded]);
        if (code === 255 && !(await masterAlive(c.controlPath))) throw controlFailure(target, Buffer.concat(sshStderr).toString() || 'Connection closed');
        return code;
      })();
      return status;
    },
    close(): void {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** Cuts the PTY announcement (the first line) from a TTY exec's output and hands its path on. */
export class PtyAnnouncement extends Transform {
  readonly path: Promise<string | undefined>;
  private settle!: (p: string | undefined) => void;
  private head: Buffer | undefined = Buffer.alloc(0);

  constructor() {
    super();
    this.path = new Promise((resolve) => (this.settle = resolve));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (!this.head) return done(null, chunk);
    const all = Buffer.concat([this.head, chunk]);
    const nl = all.indexOf(0x0a);
    if (nl < 0) {
      this.head = all;
      return done();
    }
    this.head = undefined;
    const line = all.subarray(0, nl).toString('utf8').replace(/\r$/, '');
    const at = line.indexOf(PTY_MARK);
    if (at < 0) {
      this.settle(undefined);
      return done(null, all);
    }
    this.settle(line.slice(at + PTY_MARK.length).trim());
    done(null, all.subarray(nl + 1));
  }

  override _flush(done: TransformCallback): void {
    this.settle(undefined);
    done(null, this.head && this.head.length ? this.head : undefined);
  }
}
