/**
 * What spoon puts into a created container before its first start (one archive
 * upload): its sshd config, the env's host key, and the keys allowed to log in.
 * Pure, so the files are unit-tested; ensure-env.ts does the upload.
 */
import type { DirEntry, FileEntry } from '../engine/engine.js';
import { GUESTS_ROOT, HELPER, HELPER_SCRIPT, OWNER_FILE, guestDir } from '../pairing/env-helper.js';
import { IDLE_CONFIG, IDLE_SCRIPT, IDLE_WATCHER, idleConfigFile } from './idle-stop.js';

export const SPOON_DIR = '/etc/spoon';
/** Written last in the same archive; its presence means provisioning completed. */
export const SSHD_CONFIG = `${SPOON_DIR}/sshd_config`;
export const HOST_KEY = `${SPOON_DIR}/ssh_host_ed25519_key`;
export const SSHD_BINARY = '/usr/sbin/sshd';
export const TMUX_PATHS = ['/usr/bin/tmux', '/usr/local/bin/tmux', '/bin/tmux'];

/** Written last in the provisioning upload (both modes): its presence means provisioning completed. */
export const PROVISIONED = `${SPOON_DIR}/provisioned`;

/** The main process of an env entered through the engine's exec (no sshd): it only keeps the container up. */
export const KEEPALIVE_ENTRYPOINT = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

/** Written once the create-time setup commands have finished, so an unfinished setup is noticed later. */
export const SETUP_DONE = `${SPOON_DIR}/setup.done`;

/**
 * The container's main process. A small shell stays PID 1 and sshd runs beside it,
 * logging to the container log, so a dead sshd leaves the container up for healing to
 * start it again (START_SSHD) instead of stopping the env and its sessions. The shell
 * also reaps orphaned processes. An sshd that cannot run at all (bad config, binary
 * gone) stops the container at once, with the reason in its log.
 */
export const ENTRYPOINT = [
  '/bin/sh',
  '-c',
  [
    // The owner's tmux socket lives here: only the owner may create files in it, so no
    // guest can start a server there (what a former run left is gone with its servers).
    `rm -rf /run/spoon; mkdir -p /run/sshd /run/spoon && chmod 755 /run/spoon && chown "$(cat ${OWNER_FILE} 2>/dev/null || echo root)" /run/spoon`,
    `${SSHD_BINARY} -D -e -f ${SSHD_CONFIG} &`,
    // Checked beside the start rather than before it, to keep it off the path to the first login.
    `${SSHD_BINARY} -t -f ${SSHD_CONFIG} || exit 1`,
    // idle_stop's watcher (idle-stop.ts): it ends this process when the env has been idle long enough.
    `[ -s ${IDLE_CONFIG} ] && ${IDLE_SCRIPT} < /dev/null &`,
    'trap "exit 0" TERM INT',
    'while :; do sleep 3600 & wait $!; done',
  ].join('\n'),
];

/** Healing's first step, run as root through the engine: sshd again, daemonised, logging to PID 1's stderr (the container log). */
export const START_SSHD = ['/bin/sh', '-c', `mkdir -p /run/sshd && exec ${SSHD_BINARY} -f ${SSHD_CONFIG} -E /proc/1/fd/2`];

/** The owner's tmux server listens here, so that guests (other unix users) can be let in. */
export const TMUX_SOCKET = '/run/spoon/tmux.sock';
/** Unix users of pairing guests are `spoon-guest-NAME`; sshd admits them by this prefix. */
export const GUEST_USER_PREFIX = 'spoon-guest-';

/** sshd hands this variable, set by a member's key (`environment=`), to their session: `who` names them by it. */
export const WHO_VARIABLE = 'SPOON_WHO';

export interface ProvisionInput {
  /** The container being provisioned: its id goes into the provisioned marker and the guests' folder. */
  containerId: string;
  user: string;
  /** The `env` setting: sshd sets it in every session (sessions do not inherit the container's env). */
  env: Record<string, string>;
  hostPrivateKey: string;
  hostPublicKey: string;
  authorizedKeys: string[];
  /** idle_stop, in seconds (undefined: off). */
  idleStop?: number | undefined;
}

export function sshdConfig(user: string, containerId: string, env: Record<string, string> = {}): string {
  // One SetEnv line: sshd honours only the first SetEnv directive.
  const quoted = Object.entries(env).map(([k, v]) => `"${`${k}=${v}`.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, ' ')}"`);
  const setEnv = quoted.length ? [`SetEnv ${quoted.join(' ')}`] : [];
  return [
    '# Written by spoon. Key-only logins for the env user; no root, no passwords.',
    'Port 22',
    `HostKey ${HOST_KEY}`,
    `AuthorizedKeysFile ${SPOON_DIR}/authorized_keys/%u .ssh/authorized_keys`,
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitEmptyPasswords no',
    'PermitRootLogin no',
    `PermitUserEnvironment ${WHO_VARIABLE}`,
    // PAM's session modules (pam_loginuid) fail in unprivileged containers.
    'UsePAM no',
    `AllowUsers ${user} ${GUEST_USER_PREFIX}*`,
    // The client decides (forward_agent); guests are held back by their own key options.
    'AllowAgentForwarding yes',
    'AllowTcpForwarding local',
    'X11Forwarding no',
    'PermitTunnel no',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_*',
    'ClientAliveInterval 30',
    'Subsystem sftp internal-sftp',
    ...setEnv,
    // Guests' keys are only those this container shared (none from a snapshot's image),
    // and whatever their key options say, they get no forwarding of any kind.
    `Match User ${GUEST_USER_PREFIX}*`,
    `    AuthorizedKeysFile ${guestDir(containerId)}/%u.keys`,
    '    DisableForwarding yes',
    '',
  ].join('\n');
}

export function provisioningFiles(input: ProvisionInput): { dirs: DirEntry[]; files: FileEntry[] } {
  return {
    dirs: [
      { path: SPOON_DIR, mode: 0o755 },
      { path: `${SPOON_DIR}/authorized_keys`, mode: 0o755 },
      { path: GUESTS_ROOT, mode: 0o755 },
      { path: guestDir(input.containerId), mode: 0o755 },
    ],
    files: [
      { path: HOST_KEY, content: input.hostPrivateKey, mode: 0o600 },
      { path: `${HOST_KEY}.pub`, content: input.hostPublicKey + '\n', mode: 0o644 },
      { path: `${SPOON_DIR}/authorized_keys/${input.user}`, content: input.authorizedKeys.join('\n') + '\n', mode: 0o644 },
      { path: OWNER_FILE, content: `${input.user}\n`, mode: 0o644 },
      { path: HELPER, content: HELPER_SCRIPT, mode: 0o755 },
      { path: IDLE_SCRIPT, content: IDLE_WATCHER, mode: 0o755 },
      // Always written (empty when off), so a snapshot's image does not pass its setting on.
      idleConfigFile(input.idleStop),
      { path: SSHD_CONFIG, content: sshdConfig(input.user, input.containerId, input.env), mode: 0o644 },
      provisionedMarker(input.containerId),
    ],
  };
}

/**
 * The marker names the container it was written for: an image committed from another
 * env (a snapshot) carries that env's marker, which must not count for this one.
 */
export function provisionedMarker(containerId: string): FileEntry {
  return { path: PROVISIONED, content: `${containerId}\n`, mode: 0o644 };
}

export function isProvisionedFor(marker: Buffer | undefined, containerId: string): boolean {
  return marker?.toString('utf8').trim() === containerId;
}

/** The uid, gid and home of `user` from the image's /etc/passwd, or undefined. */
export function findPasswdEntry(passwd: string, user: string): { uid: number; gid: number; home: string } | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 7) return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' };
  }
  return undefined;
}
