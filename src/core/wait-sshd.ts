/**
 * Waits until the env's sshd answers with its banner. Polls in short steps rather
 * than sleeping in fixed ones, and gives up early, with the container's last log
 * lines, when the container stops.
 */
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInfo, Engine } from '../engine/engine.js';
import { RuntimeError } from '../errors.js';
import { SSHD_CONFIG } from './provision.js';

/** The env's sshd did not come up: something healing (restart, recreate) may fix. */
export class SshdUnavailableError extends RuntimeError {}

const DEADLINE_MS = 60_000;
const STEP_MS = 20;
const CONTAINER_CHECK_MS = 1000;

export async function waitForSshd(engine: Engine, c: ContainerInfo, host: string, port: number): Promise<void> {
  const started = Date.now();
  let lastCheck = started;
  let missing = 0;
  for (;;) {
    if (await sshBanner(host, port, 2000)) return;
    if (Date.now() - lastCheck > CONTAINER_CHECK_MS) {
      lastCheck = Date.now();
      const now = await engine.inspectContainer(c.id);
      if (!now || now.state !== 'running') throw await stoppedError(engine, now ?? c);
      // Twice in a row, a second apart: the entrypoint's config check is an sshd too, and the real one follows it.
      const processes = await engine.processes(c.id);
      missing = processes && !processes.some(isSpoonSshd) ? missing + 1 : 0;
      if (missing >= 2) {
        throw new SshdUnavailableError(`sshd is not running in ${c.name}`, { hint: `look at \`docker logs ${c.name}\`` });
      }
    }
    if (Date.now() - started > DEADLINE_MS) {
      throw new SshdUnavailableError(`sshd in ${c.name} did not answer on ${host}:${port} within ${DEADLINE_MS / 1000} s`, {
        hint: `look at \`docker logs ${c.name}\``,
      });
    }
    await sleep(STEP_MS);
  }
}

/**
 * spoon's sshd listener: `/usr/sbin/sshd -D -e -f CONFIG`, or `sshd: /usr/sbin/sshd -f CONFIG [listener] …`
 * once it renames itself. Not its sessions (`sshd: dev@pts/0` outlive it) nor the
 * entrypoint shell whose script names the same file.
 */
export function isSpoonSshd(commandLine: string): boolean {
  return /^(sshd: )?\S*sshd /.test(commandLine) && commandLine.includes(` -f ${SSHD_CONFIG}`);
}

/** The container stopped before its sshd answered: the reason, with its last log lines. */
export async function stoppedError(engine: Engine, c: ContainerInfo): Promise<SshdUnavailableError> {
  const logs = (await engine.containerLogs(c.id, 10).catch(() => '')).trim();
  return new SshdUnavailableError(`${c.name} stopped while spoon waited for its sshd${c.exitCode ? ` (exit code ${c.exitCode})` : ''}`, {
    hint: `${logs ? `its last log lines:\n${logs}\n` : ''}see the whole log with \`docker logs ${c.name}\``,
  });
}

/** True when something on host:port greets with an SSH banner (a port proxy alone does not). */
export function sshBanner(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('data', (d: Buffer) => done(d.toString('latin1').startsWith('SSH-')));
    sock.once('error', () => done(false));
    sock.once('close', () => done(false));
  });
}
