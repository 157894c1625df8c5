/**
 * spoon's pairing helper inside the env: a POSIX shell program put in at create
 * (root-owned, so neither guests nor the env user change what it does). It keeps what
 * must outlive a spoon process in the env itself: guest access re-applied whenever the
 * owner's tmux server starts again, the timer that ends a timed guest, the join/leave
 * entries of the audit log (from tmux hooks), and who is attached.
 *
 * Its arguments come from spoon, which checked them (guest names, identities, session
 * names), or from tmux formats (ttys, pids, unix user names); none is evaluated.
 *
 * Layout:
 *   /etc/spoon/owner                 the env user (whose tmux server everyone joins)
 *   /etc/spoon/guests/CID/USER       a guest's access (ro/rw) and expiry (epoch s)
 *   /etc/spoon/guests/CID/USER.keys  their key line, read by sshd (see sshdConfig)
 *   /run/spoon/                      the owner's: the tmux socket, timers, attached clients
 *   ~OWNER/.local/state/spoon/audit.log   the audit log, in the home volume
 * CID is the container's id (from /etc/spoon/provisioned), so a snapshot's image, which
 * carries the guests of the env it was taken from, gives a new env none of them.
 */

export const HELPER = '/etc/spoon/pair';
export const OWNER_FILE = '/etc/spoon/owner';
export const GUESTS_ROOT = '/etc/spoon/guests';

/** The folder of a container's guests (keys and access). */
export function guestDir(containerId: string): string {
  return `${GUESTS_ROOT}/${containerId}`;
}

/** SPOON_WHO of the web view's clients (web-viewer-1, ...): `who` calls them web viewers, the audit log kind `viewer`. */
export const WEB_VIEWER_PREFIX = 'web-viewer-';

/** The end of a recorder's SPOON_WHO ("alice@laptop (recording)"): the audit log kind `recording`. */
export const RECORDING_SUFFIX = ' (recording)';

/** The audit log, relative to the owner's home. */
export const AUDIT_LOG = '.local/state/spoon/audit.log';

export const HELPER_SCRIPT = `#!/bin/sh
# spoon's pairing helper (written by spoon; see spoon's src/pairing/env-helper.ts).
set -u
SOCK=/run/spoon/tmux.sock
RUN=/run/spoon
OWNER=$(cat ${OWNER_FILE})
GUESTS=${GUESTS_ROOT}/$(cat /etc/spoon/provisioned)
OWNER_HOME=$(getent passwd "$OWNER" | cut -d: -f6)
LOG=$OWNER_HOME/${AUDIT_LOG}
TAB=$(printf '\\t')

t() { tmux -S "$SOCK" "$@"; }
now() { date +%s; }
field() { sed -n "s/^$2=//p" "$GUESTS/$1" 2>/dev/null; }
access_word() { if [ "$1" = 1 ] || [ "$1" = ro ]; then echo read-only; else echo read-write; fi; }

# log EVENT WHO KIND DETAIL: one line of the audit log (run as the owner).
log() {
  [ "$(id -un)" = "$OWNER" ] || return 0
  mkdir -p "\${LOG%/*}" && printf '%s\\t%s\\t%s\\t%s\\t%s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$1" "$2" "$3" "\${4:-}" >> "$LOG"
}

# person PID USER: who a tmux client is: a guest's name, else the SPOON_WHO its key set.
person() {
  case $2 in spoon-guest-*) echo "\${2#spoon-guest-}"; return ;; esac
  w=$(tr '\\0' '\\n' < "/proc/$1/environ" 2>/dev/null | sed -n 's/^SPOON_WHO=//p' | head -n 1)
  echo "\${w:-$2}"
}

# kind USER PERSON: guest by the account; a web viewer or a recorder by what spoon named it.
kind() {
  case $1 in spoon-guest-*) echo guest; return ;; esac
  case \${2:-} in ${WEB_VIEWER_PREFIX}*) echo viewer ;; *'${RECORDING_SUFFIX}') echo recording ;; *) echo member ;; esac
}

# timer USER EXPIRES: detach the guest when their time is up; one timer per expiry.
timer() {
  mkdir -p "$RUN/timers"
  f=$RUN/timers/$1
  if [ -f "$f" ]; then
    read -r pid exp < "$f" 2>/dev/null || pid=
    [ "\${exp:-}" = "$2" ] && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && return 0
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  fi
  # One second past the end: sshd's expiry-time still admits a login within that second.
  left=$(( $2 + 1 - $(now) ))
  [ "$left" -lt 0 ] && left=0
  setsid sh -c 'sleep "$1"; exec ${HELPER} expire "$2"' timer "$left" "$1" < /dev/null > /dev/null 2>&1 &
  echo "$! $2" > "$f"
}

# apply SESSION: the hooks and every guest's access on the owner's server. Run on every
# owner attach, so guests keep their access when the server starts again.
apply() {
  s=$1
  # hook_client, not client_*: in client-detached, tmux 3.3 expands client_* for another client.
  t set-hook -g 'client-attached[77]' "run-shell -b '${HELPER} event join #{hook_client}'"
  t set-hook -g 'client-detached[77]' "run-shell -b '${HELPER} event leave #{hook_client}'"
  # A guest's client that leaves the shared session (C-b ), C-b () is sent back before
  # the next redraw: the hook runs in the server, in the same command queue.
  t set-hook -g 'client-session-changed[77]' "if-shell -F '#{&&:#{m:spoon-guest-*,#{client_user}},#{!=:#{session_name},$s}}' 'switch-client -t =$s'"
  for f in "$GUESTS"/spoon-guest-*; do
    [ -f "$f" ] || continue
    u=\${f##*/}
    case $u in *.keys) continue ;; esac
    exp=$(field "$u" expires)
    if [ -n "$exp" ] && [ "$exp" -le "$(now)" ]; then
      t server-access -d "$u" 2> /dev/null
      continue
    fi
    t server-access -a "$u" 2> /dev/null
    if [ "$(field "$u" access)" = rw ]; then t server-access -w "$u"; else t server-access -r "$u"; fi
    [ -n "$exp" ] && timer "$u" "$exp"
  done
  return 0
}

# session SESSION [new-session args]: the shared session, made if missing.
session() {
  s=$1
  shift
  t has-session -t "=$s" 2> /dev/null || t new-session -d -s "$s" "$@" 2> /dev/null || t has-session -t "=$s" || exit 1
  # tmux's own access list (server-access) decides who may connect, not the socket's mode.
  chmod 777 "$SOCK"
  apply "$s"
}

case \${1:-} in
attach) # SESSION [new-session args]: the owner's (and every member's) attach
  shift
  s=$1
  session "$@"
  exec tmux -S "$SOCK" attach-session -t "=$s"
  ;;
grant) # SESSION: make the session and apply access (after share, as the owner)
  shift
  session "$1"
  ;;
guest-attach) # SESSION: a guest's forced command; the role is read at each login
  u=$(id -un)
  exp=$(field "$u" expires)
  if [ ! -f "$GUESTS/$u" ] || { [ -n "$exp" ] && [ "$exp" -le "$(now)" ]; }; then
    echo "spoon: your access to this env has ended" >&2
    exit 1
  fi
  flags=ignore-size
  [ "$(field "$u" access)" = rw ] || flags=ignore-size,read-only
  exec tmux -S "$SOCK" attach-session -f "$flags" -t "=$2"
  ;;
role) # USER ro|rw: change an attached guest's access at once (as the owner)
  if [ "$3" = rw ]; then t server-access -w "$2"; else t server-access -r "$2"; fi
  ;;
revoke) # USER: out of the server's access list, which detaches their clients (as the owner)
  t server-access -d "$2" 2> /dev/null
  rm -f "$RUN/timers/$2"
  true
  ;;
expire) # USER: the timer's end
  exp=$(field "$2" expires)
  [ -n "$exp" ] && [ "$exp" -le "$(now)" ] || exit 0
  t server-access -d "$2" 2> /dev/null
  log expire "\${2#spoon-guest-}" guest ""
  ;;
event) # join|leave CLIENT (its tty): from the tmux hooks; who it was is kept from the join
  ev=$2
  key=$RUN/clients/$(echo "$3" | tr / _)
  if [ "$ev" = join ]; then
    info=$(t display-message -p -c "$3" "#{client_pid} #{client_user} #{client_readonly}") || exit 0
    set -f
    # shellcheck disable=SC2086
    set -- $info
    p=$(person "$1" "$2")
    line="$p$TAB$(kind "$2" "$p")$TAB$(access_word "$3")"
    mkdir -p "$RUN/clients" && printf '%s\n' "$line" > "$key"
  else
    line=$(cat "$key" 2> /dev/null) || exit 0
    rm -f "$key"
  fi
  IFS="$TAB" read -r who k acc <<END
$line
END
  log "$ev" "$who" "$k" "$acc"
  ;;
log) # EVENT WHO KIND DETAIL
  shift
  log "$@"
  ;;
who) # the attached clients: person, kind, readonly, tty, expiry, unix user
  t list-clients -F "#{client_pid}$TAB#{client_user}$TAB#{client_readonly}$TAB#{client_tty}" 2> /dev/null |
    while IFS="$TAB" read -r pid user ro tty; do
      exp=
      case $user in spoon-guest-*) exp=$(field "$user" expires) ;; esac
      printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$(person "$pid" "$user")" "$(kind "$user")" "$ro" "$tty" "$exp" "$user"
    done
  ;;
read-log) # the audit log
  cat "$LOG" 2> /dev/null
  true
  ;;
add-guest) # USER ro|rw EXPIRES KEYLINE (as root): the account, its key and access
  u=$2
  mkdir -p "$GUESTS" && chmod 755 ${GUESTS_ROOT} "$GUESTS" || exit 1
  if ! id -u "$u" > /dev/null 2>&1; then
    # No password, but not locked ('*'): sshd without PAM refuses locked accounts.
    useradd -M -d / -s /bin/sh "$u" && usermod -p '*' "$u" || exit 1
  fi
  umask 022
  printf '%s\\n' "$5" > "$GUESTS/$u.keys.new" && mv "$GUESTS/$u.keys.new" "$GUESTS/$u.keys" &&
    printf 'access=%s\\nexpires=%s\\n' "$3" "$4" > "$GUESTS/$u.new" && mv "$GUESTS/$u.new" "$GUESTS/$u"
  ;;
set-access) # USER ro|rw (as root)
  [ -f "$GUESTS/$2" ] || exit 3
  exp=$(field "$2" expires)
  umask 022
  printf 'access=%s\\nexpires=%s\\n' "$3" "$exp" > "$GUESTS/$2.new" && mv "$GUESTS/$2.new" "$GUESTS/$2"
  ;;
guest) # USER: its access and expiry, if it is a guest of this container
  [ -f "$GUESTS/$2" ] || exit 3
  cat "$GUESTS/$2"
  ;;
remove-guest) # USER (as root): no key, no processes, no account
  rm -f "$GUESTS/$2" "$GUESTS/$2.keys"
  pkill -KILL -u "$2" 2> /dev/null
  userdel "$2" 2> /dev/null
  true
  ;;
prune) # (as root) accounts of guests this container did not share (a snapshot's), and expired ones
  for d in ${GUESTS_ROOT}/*; do
    [ -d "$d" ] && [ "$d" != "$GUESTS" ] && rm -rf "$d"
  done
  for u in $(cut -d: -f1 /etc/passwd | grep '^spoon-guest-'); do
    exp=$(field "$u" expires)
    if [ ! -f "$GUESTS/$u" ] || { [ -n "$exp" ] && [ "$exp" -le "$(now)" ]; }; then
      "$0" remove-guest "$u"
    fi
  done
  true
  ;;
*)
  echo "usage: pair attach|grant|guest-attach|role|revoke|expire|event|log|who|read-log|add-guest|set-access|guest|remove-guest|prune" >&2
  exit 2
  ;;
esac
`;
