/**
 * Joining an env someone else made (SPEC "Pairing"): whoever reaches the engine already
 * has root over the env, so the engine is the trusted channel. Through it spoon adds the
 * caller's keys to the env user's authorized keys and reads the env's host public key,
 * which it pins in the caller's own known_hosts. Nothing comes from the network, and
 * nothing about the env is recreated.
 */
import { RuntimeError } from '../errors.js';
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { parsePublicKey } from '../ssh/keys.js';
import { hostAlias, knownHostsLine } from '../ssh/known-hosts.js';
import { readIfExists, writeAtomic } from '../state/files.js';
import { memberKeys } from './client-keys.js';
import type { Context } from './context.js';
import { runEngineCaptured } from './engine-session.js';
import { LABEL } from './labels.js';
import { HOST_KEY, SPOON_DIR } from './provision.js';

/**
 * Appends each key whose blob the file lacks (so a second join adds nothing), under a
 * lock when flock exists, then prints the host public key.
 */
const AUTHORIZE = `set -e
dir=${SPOON_DIR}/authorized_keys
mkdir -p "$dir"
f=$dir/$OWNER
if command -v flock > /dev/null 2>&1; then exec 9>> "$dir/.lock"; flock 9; fi
touch "$f" && chmod 644 "$f"
printf '%s\\n' "$KEYS" | while IFS= read -r entry; do
  [ -n "$entry" ] || continue
  blob=\${entry%%"$TAB"*}
  grep -qF -- "$blob" "$f" || printf '%s\\n' "\${entry#*"$TAB"}" >> "$f"
done
cat ${HOST_KEY}.pub`;

/** Authorizes the caller's keys in the running env and pins its host key as the engine shows it. */
export async function joinEnv(ctx: Context, engine: Engine, container: ContainerInfo, name: string): Promise<void> {
  const owner = container.labels[LABEL.user];
  if (!owner) throw new RuntimeError(`${container.name} does not record its login user`, { hint: 'it was not made by spoon' });
  const { identity, keys } = memberKeys(ctx.paths, ctx.env);
  const entries = keys.map((k) => `${k.blob}\t${k.line}`);
  const r = await runEngineCaptured(engine, container.id, ['sh', '-c', AUTHORIZE], { user: 'root', env: [`OWNER=${owner}`, `KEYS=${entries.join('\n')}`, 'TAB=\t'] });
  const hostKey = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !parsePublicKey(hostKey)) {
    throw new RuntimeError(`cannot join ${name}: its keys could not be read or changed through the engine: ${r.stderr.trim().split('\n').pop() || `exit ${r.code}`}`, {
      hint: 'spoon doctor checks the env',
    });
  }
  ctx.report.verbose(`${name}: authorized ${identity}'s keys through the engine`);
  const pin = knownHostsLine(hostAlias(name), hostKey);
  const previous = readIfExists(ctx.paths.knownHosts(name));
  if (previous !== undefined && previous !== pin) {
    ctx.report.info(`${name} has a new host key (its container was made again); spoon pinned the new key, read through the engine`);
  }
  if (previous !== pin) writeAtomic(ctx.paths.knownHosts(name), pin, 0o600);
}
