/**
 * The environment of every session spoon starts in an env (exec, attach, lifecycle
 * commands), with or without sshd: devcontainer.json's `remoteEnv` (and the `env`
 * setting), after the user's shell environment when `userEnvProbe` asks for it, as the
 * devcontainers CLI does for `devcontainer exec` and lifecycle commands.
 *
 * Why a file: the values must arrive exactly (newlines, `$`, quotes, backslashes) for
 * whoever connects, whichever way. sshd's SetEnv cannot carry a newline, and the engine's
 * exec Env reaches only the exec path. So at create spoon writes them, root-owned, as a
 * POSIX shell fragment (`/etc/spoon/session-env`, single-quoted: any byte but NUL comes
 * through as is), and every command line spoon sends starts by reading it, over ssh and
 * through the engine alike. It is the env's own: a second person who joins, and new tmux
 * windows (they inherit the tmux server's environment, which the attach started with),
 * get the same values the env was created with, whatever their own config says.
 * `${containerEnv:NAME}` in a value is the session's NAME when the file is read.
 */
import type { FileEntry } from '../engine/engine.js';
import type { UserEnvProbe } from '../config/devcontainer.js';
import { shellQuote } from '../ssh/args.js';

/** In provision.ts's SPOON_DIR; spelled out so the fast path (connect.ts) does not load provisioning. */
export const SESSION_ENV = '/etc/spoon/session-env';

export interface SessionEnvInput {
  /** The `env` setting (devcontainer.json's containerEnv): already the container's env; given again for ssh sessions, which do not inherit it. */
  env: Record<string, string>;
  /** devcontainer.json's remoteEnv: applied last, over the probed env. */
  remoteEnv: Record<string, string>;
  probe: UserEnvProbe;
}

const PROBE_FLAGS: Record<UserEnvProbe, string | undefined> = {
  none: undefined,
  loginShell: '-lc',
  interactiveShell: '-ic',
  loginInteractiveShell: '-lic',
};

const BEGIN = 'spoon-user-env-probe-begin';
const END = 'spoon-user-env-probe-end';

/**
 * The probe, as the devcontainers CLI's: the user's login shell, started the way
 * userEnvProbe says (without a terminal: setsid when there is one, stdin from /dev/null),
 * prints its environment, which this shell takes over. What the shell's startup files
 * print around it is cut off by markers (a line goes before the first: sed's `1,/re/`
 * cannot end on line 1). PWD stays this shell's; PATH keeps the entries
 * of the current PATH the probed one lacks, where the CLI puts them (sbin folders only for
 * root), so that an image's PATH survives a /etc/profile that sets its own.
 */
function probeScript(flags: string): string {
  const inner = `echo ${BEGIN}; /bin/sh -c 'export -p'; echo ${END}`;
  return `if [ "\${spoon_probe-}" = 1 ]; then
  spoon_sh=\${SHELL-}
  [ -n "$spoon_sh" ] || spoon_sh=$(getent passwd "$(id -un)" 2>/dev/null | cut -d: -f7)
  [ -x "$spoon_sh" ] || spoon_sh=/bin/sh
  spoon_setsid=
  if command -v setsid >/dev/null 2>&1; then spoon_setsid=setsid; fi
  spoon_out=$($spoon_setsid "$spoon_sh" ${flags} ${shellQuote([inner])} </dev/null 2>/dev/null)
  spoon_pwd=$PWD
  spoon_path=$PATH
  eval "$(printf '\\n%s\\n' "$spoon_out" | sed -e '1,/^${BEGIN}$/d' -e '/^${END}$/,$d')"
  PWD=$spoon_pwd
  if [ "$PATH" != "$spoon_path" ] && command -v awk >/dev/null 2>&1; then
    PATH=$(awk -v new="$PATH" -v old="$spoon_path" -v root="$(id -u)" 'BEGIN {
      n = split(new, a, ":"); m = split(old, b, ":"); r = 0
      for (j = 1; j <= m; j++) {
        o = 0
        for (i = 1; i <= n; i++) if (a[i] == b[j]) { o = i; break }
        if (o > 0) r = o
        else if (root == 0 || b[j] !~ /\\/sbin(\\/|$)/) { for (i = n; i > r; i--) a[i + 1] = a[i]; a[r + 1] = b[j]; n++; r++ }
      }
      s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? ":" : "") a[i]; print s
    }')
  fi
  export PATH
fi
unset spoon_probe spoon_sh spoon_setsid spoon_out spoon_pwd spoon_path`;
}

/** The file's content: a POSIX shell fragment, sourced (see withSessionEnv). */
export function sessionEnvScript(input: SessionEnvInput): string {
  const flags = PROBE_FLAGS[input.probe];
  const lines = [
    '# Written by spoon when this env was created (see spoon\'s src/core/session-env.ts):',
    '# the environment of every session spoon starts here. Sourced, so POSIX shell.',
    ...valid(input.env).map(([k, v]) => `export ${k}=${shellQuote([v])}`),
    ...(flags ? [`# userEnvProbe: ${input.probe}`, probeScript(flags)] : []),
    ...valid(input.remoteEnv).flatMap(([k, v]) => remoteEnvLines(k, v)),
    '',
  ];
  return lines.join('\n');
}

/** Only names the shell can set: one it cannot would end every session with a syntax error (devcontainer.json's are checked when it is read). */
function valid(env: Record<string, string>): [string, string][] {
  return Object.entries(env).filter(([k]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
}

const CONTAINER_ENV = /\$\{containerEnv:([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}/g;

/** `export K=...`, the value single-quoted except `${containerEnv:NAME[:default]}`, which is the session's NAME. */
function remoteEnvLines(key: string, value: string): string[] {
  const defaults: string[] = [];
  let out = '';
  let last = 0;
  for (const m of value.matchAll(CONTAINER_ENV)) {
    if (m.index > last) out += quoteSingle(value.slice(last, m.index));
    if (m[2] === undefined) out += `"\${${m[1]}-}"`;
    else {
      const d = `spoon_default_${defaults.length}`;
      defaults.push(`${d}=${quoteSingle(m[2])}`);
      out += `"\${${m[1]}-$${d}}"`;
    }
    last = m.index + m[0].length;
  }
  if (last < value.length || out === '') out += quoteSingle(value.slice(last));
  const unset = defaults.length ? [`unset ${defaults.map((_, i) => `spoon_default_${i}`).join(' ')}`] : [];
  return [...defaults, `export ${key}=${out}`, ...unset];
}

function quoteSingle(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sessionEnvFile(input: SessionEnvInput): FileEntry {
  return { path: SESSION_ENV, content: sessionEnvScript(input), mode: 0o644 };
}

/**
 * A command line that reads the env's session environment first. With `probe`, the
 * user env probe runs too (exec and lifecycle commands, as the devcontainers CLI does;
 * the attach starts login shells itself). An env made by an older spoon has no file:
 * the command runs as before.
 */
export function withSessionEnv(command: string, probe: boolean): string {
  return `${probe ? 'spoon_probe=1; ' : ''}if [ -r ${SESSION_ENV} ]; then . ${SESSION_ENV}; fi; ${command}`;
}
