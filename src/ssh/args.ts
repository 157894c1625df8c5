/**
 * Pure builders of OpenSSH command lines. Nothing here spawns; ssh/spawn.ts does.
 * Every connection is pinned (StrictHostKeyChecking=yes against spoon's own
 * known_hosts), key-only, and ignores the user's ssh_config so behaviour is the
 * same on every machine.
 */

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** HostKeyAlias: the name the pinned key is filed under. */
  alias: string;
  identityFile: string;
  knownHostsFile: string;
  controlPath: string;
  /** Reach host:port through this command (an ssh engine's host), instead of directly. */
  proxyCommand?: string | undefined;
}

export interface Forward {
  localPort: number;
  remotePort: number;
  bindAddress: string;
}

/** How long an idle ControlMaster stays up so the next exec/attach skips the handshake. */
export const CONTROL_PERSIST = '10m';

/**
 * Options for every connection. ssh keeps the first value it sees for an option,
 * so callers must not try to override these with later `-o`s. With `agent`, the
 * user's agent is forwarded (IdentityAgent=none would unset SSH_AUTH_SOCK).
 */
export function connectionOptions(t: SshTarget, agent = false): string[] {
  const o = (kv: string) => ['-o', kv];
  return [
    '-F', 'none',
    '-p', String(t.port),
    '-i', t.identityFile,
    ...(t.proxyCommand ? o(`ProxyCommand=${t.proxyCommand}`) : []),
    ...o('IdentitiesOnly=yes'),
    ...(agent ? o('ForwardAgent=yes') : [...o('IdentityAgent=none'), ...o('ForwardAgent=no')]),
    ...o(`UserKnownHostsFile=${t.knownHostsFile}`),
    ...o(`GlobalKnownHostsFile=${t.knownHostsFile}`),
    ...o(`HostKeyAlias=${t.alias}`),
    ...o('StrictHostKeyChecking=yes'),
    ...o('CheckHostIP=no'),
    ...o('UpdateHostKeys=no'),
    ...o('PreferredAuthentications=publickey'),
    ...o('PasswordAuthentication=no'),
    ...o('KbdInteractiveAuthentication=no'),
    ...o('BatchMode=yes'),
    // curve25519 first: ~75 ms cheaper per handshake here than the post-quantum default, and safe.
    ...o('KexAlgorithms=curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256'),
    ...o('ConnectTimeout=10'),
    ...o('ServerAliveInterval=15'),
    ...o('ServerAliveCountMax=3'),
    ...o('ForwardX11=no'),
    ...o('LogLevel=ERROR'),
  ];
}

/** A backgrounded master: `-f` returns once authenticated, which is the readiness signal we want. */
export function masterArgs(t: SshTarget): string[] {
  return ['-f', '-N', '-M', '-S', t.controlPath, '-o', `ControlPersist=${CONTROL_PERSIST}`, ...connectionOptions(t), `${t.user}@${t.host}`];
}

export function masterControlArgs(t: SshTarget, op: 'exit'): string[] {
  return ['-F', 'none', '-S', t.controlPath, '-O', op, `${t.user}@${t.host}`];
}

export interface SessionOptions {
  tty: boolean;
  /** Reuse the ControlMaster at t.controlPath (falls back to a direct connection if it is gone). */
  useMaster: boolean;
  forwards: Forward[];
  forwardAgent: boolean;
  /** The remote command line, already quoted for the remote shell. */
  command: string;
}

const NO_MASTER = ['-o', 'ControlMaster=no', '-o', 'ControlPath=none'];

/** With the agent forwarded, every session (attach, exec) sees it at the stable path (withStableAgent). */
export function sessionArgs(t: SshTarget, s: SessionOptions): string[] {
  const mux = s.useMaster ? ['-S', t.controlPath, '-o', 'ControlMaster=no'] : NO_MASTER;
  const command = s.forwardAgent ? withStableAgent(s.command) : s.command;
  return [s.tty ? '-t' : '-T', ...mux, ...localForwards(s.forwards), ...connectionOptions(t, s.forwardAgent), `${t.user}@${t.host}`, '--', command];
}

/**
 * What a forward's connection runs: nothing, until the connection ends (then it ends too,
 * as its sshd parent is gone). A session rather than `-N`, so that the env's idle watcher
 * sees an open forward (it counts sessions, not connections such as spoon's idle master).
 */
export const FORWARD_HOLD = `exec sh -c 'while kill -0 $PPID 2>/dev/null; do sleep 5; done'`;

/** A connection that only holds local forwards (`spoon forward`), until it is ended. */
export function forwardArgs(t: SshTarget, forwards: Forward[]): string[] {
  return ['-T', '-n', ...NO_MASTER, ...localForwards(forwards), ...connectionOptions(t), `${t.user}@${t.host}`, '--', FORWARD_HOLD];
}

/** `-L` for each forward; ssh then fails rather than going on without one it could not open. */
function localForwards(forwards: Forward[]): string[] {
  if (forwards.length === 0) return [];
  return [...forwards.flatMap((f) => ['-L', `${f.bindAddress}:${f.localPort}:localhost:${f.remotePort}`]), '-o', 'ExitOnForwardFailure=yes'];
}

/**
 * Quotes argv for the remote POSIX shell so each argument arrives exactly as given
 * (ssh joins its arguments with spaces and the remote shell parses them once).
 */
export function shellQuote(argv: string[]): string {
  return argv.map((a, i) => (isPlainWord(a, i === 0) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/** Reserved words mean something as a command word; `A=1` there is an assignment. */
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'select', 'while', 'until', 'do', 'done', 'in', 'function', 'time']);

function isPlainWord(word: string, isCommandWord: boolean): boolean {
  if (!/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return false;
  return !isCommandWord || (!word.includes('=') && !RESERVED.has(word));
}

export interface AttachOptions {
  shell?: string | undefined;
  cwd?: string | undefined;
  /** The tmux server's socket (`tmux -S`), when not the default one. */
  socket?: string | undefined;
  /**
   * The env's pairing helper: when the env has it, it attaches (making the session the
   * same way) after re-applying guest access and the hooks to the owner's server.
   */
  helper?: string | undefined;
}

/** The attach command: join the named tmux session, creating it (in `cwd`, running `shell`, if set) on first use. */
export function tmuxAttachCommand(session: string, o: AttachOptions = {}): string {
  const create = [...(o.cwd ? ['-c', o.cwd] : []), ...(o.shell ? [o.shell] : [])];
  const plain = shellQuote(['tmux', ...(o.socket ? ['-S', o.socket] : []), 'new-session', '-A', '-s', session, ...create]);
  if (!o.helper) return plain;
  // Envs made by an older spoon have no helper: they attach as before.
  return `if [ -x ${shellQuote([o.helper])} ]; then exec ${shellQuote([o.helper, 'attach', session, ...create])}; fi; ${plain}`;
}

/** Where the forwarded agent is reachable inside the env, across reconnects. */
export const STABLE_AGENT_SOCKET = '$HOME/.ssh/spoon-agent.sock';

/**
 * Each ssh connection gets its own SSH_AUTH_SOCK, but shells in a long-lived tmux
 * session keep the one they started with, which dies with that connection. A stable
 * link, pointed at the current socket on every attach, keeps them working.
 */
export function withStableAgent(command: string): string {
  return `if [ -n "$SSH_AUTH_SOCK" ]; then mkdir -p "$HOME/.ssh" && ln -sfn "$SSH_AUTH_SOCK" "${STABLE_AGENT_SOCKET}" && export SSH_AUTH_SOCK="${STABLE_AGENT_SOCKET}"; fi; ${command}`;
}

/** A command line that first changes to `dir` (a devcontainer's workspace folder). */
export function inFolder(dir: string | undefined, command: string): string {
  return dir ? `cd ${shellQuote([dir])} && ${command}` : command;
}
