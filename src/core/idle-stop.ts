/**
 * Idle auto-stop (`idle_stop`): a watcher inside the env, so it works on every engine
 * and with spoon not running. The container's main process starts it when the env was
 * made with the setting (IDLE_CONFIG holds it; empty means off, so an env made from a
 * snapshot of one that had it does not inherit it). It stops the container the way
 * `docker stop` does: it signals PID 1, whose exit stops the container; volumes stay and
 * the next `spoon NAME` starts it again.
 *
 * It counts work, not connections. Activity is any of:
 *  - a keystroke in any client of the owner's tmux server (owner, member or guest):
 *    tmux's #{client_activity}, which keys (not output) move;
 *  - an open ssh session that is not one of those tmux clients (a running `spoon exec`,
 *    a plain ssh shell, a `spoon forward`, which holds a session for this): a process
 *    whose parent is an sshd. An attach is counted by its typing instead, so a forgotten
 *    terminal does not keep the env up, and spoon's idle ControlMaster connection, which
 *    has no session, does not either;
 *  - CPU used by the container's processes above IDLE_CPU_PERCENT of one CPU over a check
 *    interval (the cgroup's counter, v2 or v1, else the processes' own times), so a long
 *    build or test run keeps it up with nobody attached.
 *
 * The watcher writes IDLE_FILE at each check: `IDLE_SECONDS CHECKED_AT_EPOCH`, read by
 * `spoon list` and `spoon doctor`. It is root's, outside the owner's /run/spoon.
 */
import type { ContainerInfo, FileEntry } from '../engine/engine.js';
import { formatDuration } from '../config/duration.js';
import { LABEL } from './labels.js';

export const IDLE_SCRIPT = '/etc/spoon/idle';
/** `SECONDS INTERVAL CPU_PERCENT`, or empty when idle_stop is off. */
export const IDLE_CONFIG = '/etc/spoon/idle-stop';
export const IDLE_FILE = '/run/spoon-idle';

/** CPU use (percent of one CPU, averaged over a check) below which the env counts as idle; the watcher's own share is far below it. */
export const IDLE_CPU_PERCENT = 5;

/** How often the watcher checks: a tenth of the duration, from 1 s (second-scale tests) to 60 s. */
export function checkInterval(seconds: number): number {
  return Math.max(1, Math.min(60, Math.floor(seconds / 10)));
}

export function idleConfigFile(seconds: number | undefined): FileEntry {
  return { path: IDLE_CONFIG, content: seconds ? `${seconds} ${checkInterval(seconds)} ${IDLE_CPU_PERCENT}\n` : '', mode: 0o644 };
}

/** The label value (dev.spoon.idle-stop) that tells `list` and `doctor` an env stops itself. */
export function idleLabel(seconds: number): string {
  return formatDuration(seconds);
}

/** IDLE_FILE's idle seconds, or null when it says nothing readable. */
export function parseIdleFile(content: Buffer | string | undefined): { idle: number; checkedAt: number } | null {
  const m = /^(\d+) (\d+)\s*$/.exec(content?.toString() ?? '');
  return m ? { idle: Number(m[1]), checkedAt: Number(m[2]) } : null;
}

/**
 * After a session's connection dropped: why, when the env has stopped and is one that stops
 * itself when idle (an attached terminal nobody typed in does not keep it up); else undefined.
 */
export function idleStopNotice(c: ContainerInfo | undefined, name: string): string | undefined {
  const setting = c?.labels[LABEL.idleStop];
  if (!c || !setting || c.state === 'running') return undefined;
  return `${name} has stopped: it stops itself after ${setting} without typing, sessions or CPU use (idle_stop); \`spoon ${name}\` starts it again`;
}

export const IDLE_WATCHER = `#!/bin/sh
# spoon's idle watcher (written by spoon; see spoon's src/core/idle-stop.ts).
# Started by the container's main process; stops the container after IDLE seconds
# without typing, ssh sessions (other than tmux clients) or CPU use.
set -u
read -r IDLE INTERVAL PCT < ${IDLE_CONFIG} 2> /dev/null || exit 0
[ -n "\${IDLE:-}" ] && [ "$IDLE" -gt 0 ] 2> /dev/null || exit 0
SOCK=/run/spoon/tmux.sock
PIDS=
OUT=${IDLE_FILE}
# CPU microseconds allowed per check before it counts as work.
LIMIT=$((INTERVAL * 10000 * PCT))

# The container's CPU counter: cgroup v2, else v1, else the processes' own times.
CG=
cg2=$(sed -n 's/^0:://p' /proc/self/cgroup 2> /dev/null | head -n 1)
if [ -n "$cg2" ]; then
  if [ "$cg2" = / ]; then CG=/sys/fs/cgroup/cpu.stat; else CG=/sys/fs/cgroup$cg2/cpu.stat; fi
  [ -r "$CG" ] && CGKIND=v2 || CG=
fi
if [ -z "$CG" ]; then
  for f in /sys/fs/cgroup/cpuacct/cpuacct.usage /sys/fs/cgroup/cpu,cpuacct/cpuacct.usage; do
    if [ -r "$f" ]; then CG=$f; CGKIND=v1; break; fi
  done
fi

# CPU: the counter in microseconds (no subshells: the watcher's own CPU must stay small).
cpu_us() {
  case \${CGKIND:-} in
  v2) read -r _k CPU < "$CG" || CPU=0 ;;
  v1) read -r CPU < "$CG" && CPU=$((CPU / 1000)) || CPU=0 ;;
  *) CPU=$TICKS_US ;;
  esac
}

# One pass over /proc: parents, the sshds, and (without a cgroup counter) CPU ticks.
scan() {
  for pid in $PIDS; do unset "PP_$pid"; done
  SSHDS=' '
  PIDS=
  ticks=0
  for d in /proc/[0-9]*; do
    read -r st < "$d/stat" 2> /dev/null || continue
    pid=\${st%% *}
    comm=\${st#*(}
    comm=\${comm%)*}
    # shellcheck disable=SC2086
    set -- \${st##*) }
    eval "PP_$pid=$2"
    PIDS="$PIDS $pid"
    case $comm in sshd | sshd-session) SSHDS="$SSHDS$pid " ;; esac
    ticks=$((ticks + \${12} + \${13} + \${14} + \${15}))
  done
  # USER_HZ is 100 on Linux.
  TICKS_US=$((ticks * 10000))
}

parent() { eval "PARENT=\\\${PP_$1:-0}"; }
is_sshd() { case $SSHDS in *" $1 "*) return 0 ;; esac; return 1; }

# The ssh sessions: processes whose parent is an sshd and which are no sshd themselves,
# less those that lead to a tmux client of the owner's server (counted by typing).
sessions() {
  attached=' '
  for c in $CLIENTS; do
    p=$c
    while [ "$p" -gt 1 ]; do
      parent "$p"
      if is_sshd "$PARENT"; then
        attached="$attached$p "
        break
      fi
      p=$PARENT
    done
  done
  SESSIONS=0
  for pid in $PIDS; do
    is_sshd "$pid" && continue
    parent "$pid"
    is_sshd "$PARENT" || continue
    case $attached in *" $pid "*) continue ;; esac
    SESSIONS=$((SESSIONS + 1))
  done
}

now() { date +%s; }

report() { printf '%s %s\\n' "$1" "$2" > "$OUT.new" && mv -f "$OUT.new" "$OUT"; }

last=$(now)
# At once: what an earlier run of the container left there is not about this one.
report 0 "$last"
scan
cpu_us
prev=$CPU
echo "spoon: idle_stop: stopping after \${IDLE}s idle (checked every \${INTERVAL}s; CPU from \${CG:-the processes' times})" >&2
while :; do
  sleep "$INTERVAL"
  t=$(now)
  CLIENTS=
  if [ -S "$SOCK" ]; then
    # As root (tmux lets root in); one line per client: activity time and pid.
    acts=$(tmux -S "$SOCK" list-clients -F '#{client_activity} #{client_pid}' 2> /dev/null)
    set -- $acts
    while [ $# -ge 2 ]; do
      [ "$1" -gt "$last" ] 2> /dev/null && last=$1
      CLIENTS="$CLIENTS $2"
      shift 2
    done
  fi
  scan
  sessions
  [ "$SESSIONS" -gt 0 ] && last=$t
  cpu_us
  [ $((CPU - prev)) -gt "$LIMIT" ] && last=$t
  prev=$CPU
  [ "$last" -gt "$t" ] && last=$t
  idle=$((t - last))
  report "$idle" "$t"
  if [ "$idle" -ge "$IDLE" ]; then
    echo "spoon: idle_stop: idle for \${idle}s; stopping the container" >&2
    kill -TERM 1
    exit 0
  fi
done
`;
