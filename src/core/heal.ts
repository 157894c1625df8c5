/**
 * Healing by escalation (SPEC "Persistence, snapshots, healing"). When an env's
 * sshd cannot be reached, spoon tries one step at a time and re-checks after each:
 * start sshd in the running container, restart the container, then recreate it from
 * its image with its volumes kept (asking first). Each re-check is bounded by
 * waitForSshd's limits, so healing ends. It says which step fixed it, or what is wrong. A host key that
 * does not match the pin is never "healed": that may be someone in the middle.
 */
import { RuntimeError } from '../errors.js';
import { forgetEnvState } from '../state/env-state.js';
import type { Context } from './context.js';
import { runEngineCaptured } from './engine-session.js';
import { findEnv } from './find-env.js';
import { LABEL } from './labels.js';
import { decodePlan, type EnvPlan } from './plan.js';
import { START_SSHD } from './provision.js';
import { SshdUnavailableError } from './wait-sshd.js';

/** Asks whether to recreate; undefined means nobody can be asked (no terminal, no --yes). */
export type ConfirmRecreate = ((question: string) => Promise<boolean>) | undefined;

const RESTART_TIMEOUT_S = 2;

/**
 * Runs `attempt` with the current plan, healing between tries. A recreate uses the
 * plan the container was made from (its label), so flags given only when it was created
 * still apply; `attempt` gets the plan it should use.
 */
export async function withHealing<T>(
  ctx: Context,
  name: string,
  plan: EnvPlan,
  confirm: ConfirmRecreate,
  closeMaster: () => Promise<void>,
  attempt: (plan: EnvPlan) => Promise<T>,
): Promise<T> {
  let problem: SshdUnavailableError;
  try {
    return await attempt(plan);
  } catch (err) {
    if (!(err instanceof SshdUnavailableError)) throw err;
    problem = err;
  }
  const engine = await ctx.engine();
  const before = await findEnv(engine, name, plan.options.prefix);
  if (!before) throw problem;

  /** The re-check after a step: its result when the step fixed the env, else undefined (and `problem` is the new one). */
  const recheck = async (fixedBy: string, withPlan: EnvPlan): Promise<{ value: T } | undefined> => {
    try {
      const value = await attempt(withPlan);
      ctx.report.info(`${name}: healed by ${fixedBy}`);
      return { value };
    } catch (err) {
      if (!(err instanceof SshdUnavailableError)) throw err;
      problem = err;
      return undefined;
    }
  };

  if (before.state === 'running' && before.labels[LABEL.connect] !== 'exec') {
    ctx.report.info(`${name}: ${problem.message}; starting its sshd`);
    const started = await runEngineCaptured(engine, before.id, START_SSHD, { user: 'root' }).catch((err: Error) => ({ code: -1, stderr: err.message }));
    if (started.code !== 0) ctx.report.verbose(`starting sshd in ${name} failed (${started.code}): ${started.stderr.trim()}`);
    const healed = started.code === 0 ? await recheck('starting its sshd', plan) : undefined;
    if (healed) return healed.value;
  }

  if (before.state === 'running') {
    ctx.report.info(`${name}: ${problem.message}; restarting its container`);
    await closeMaster();
    await engine.restartContainer(before.id, RESTART_TIMEOUT_S);
    const healed = await recheck('restarting its container', plan);
    if (healed) return healed.value;
  }

  const question = `${name} still does not answer (${problem.message}). Recreate its container from its image? Its volumes are kept. [y/N] `;
  if (!(confirm && (await confirm(question)))) {
    throw new RuntimeError(`${name} does not come up: ${problem.message}`, {
      hint: `recreating its container from the image would fix it and keeps its volumes: spoon up ${name} -N --yes${problem.hint ? `\n${problem.hint}` : ''}`,
    });
  }
  const recorded = decodePlan(before.labels[LABEL.plan], before.labels[LABEL.configHash]);
  ctx.report.info(`${name}: recreating its container from its image (its volumes are kept)`);
  if (!recorded) ctx.report.warn(`${name} does not record the settings it was made with (made by an older spoon?); it is recreated with the current ones`);
  await closeMaster();
  // Claimed from the warm pool: the record of its volumes must outlive the container.
  await (await import('./pool-ref.js')).writePoolRef(engine, name, before, {});
  await engine.removeContainer(before.id);
  forgetEnvState(ctx.paths.envState(name));
  const healed = await recheck('recreating its container', recorded ?? plan);
  if (healed) return healed.value;
  throw problem;
}
