/**
 * Commands spoon runs for the user around an env, in the devcontainers CLI's order:
 * devcontainer.json's initializeCommand on the host before the env is created or
 * started; `run_on_create` and onCreateCommand, updateContentCommand, postCreateCommand
 * once, right after the env is created; postStartCommand after every start;
 * postAttachCommand before every attach (`spoon NAME`). A failing command stops spoon
 * with its status and leaves the env to be inspected; later connects say that setup
 * did not finish.
 *
 * On an attach, what comes after `waitFor` (default updateContentCommand) goes on in the
 * background inside the env, as editors do: the terminal is there sooner, the output is
 * in BACKGROUND_LOG, and a failure is told at the next connect. `up -N` and `exec` wait for
 * everything, as `devcontainer up` does: a script that goes on afterwards finds the env set up.
 */
import type { LifecycleCommand, WaitFor } from '../config/devcontainer.js';
import { CommandFailedError } from '../errors.js';
import { inFolder, shellQuote } from '../ssh/args.js';
import { runHostArgv } from '../ssh/spawn.js';
import { forgetEnvState } from '../state/env-state.js';
import type { Context } from './context.js';
import type { ReadyEnv } from './ensure-env.js';
import type { EnvPlan } from './plan.js';
import { workdirOf } from './plan.js';
import { SETUP_DONE } from './provision.js';

/** Runs one shell command line in the env, output passed through; resolves with its status. */
export type CommandRunner = (command: string) => Promise<number>;

/** Where the commands that go on in the background write their output, in the env. */
export const BACKGROUND_LOG = '/tmp/spoon-setup.log';
/** `running` while they run, `failed LABEL STATUS` when one failed; gone when all succeeded. */
export const BACKGROUND_STATE = '/tmp/spoon-setup.state';

interface Step {
  label: string;
  command: string;
}

/** The commands of one lifecycle property, as groups of steps; the steps of one group run in parallel. */
interface Phase {
  property: string;
  groups: Step[][];
}

/** The CLI's order; waitFor names one of the first of these. run_on_create comes with onCreateCommand. */
const ORDER: Record<WaitFor | 'postAttachCommand', number> = {
  initializeCommand: 0,
  onCreateCommand: 1,
  updateContentCommand: 2,
  postCreateCommand: 3,
  postStartCommand: 4,
  postAttachCommand: 5,
};

/** The commands that run in the env (the ones that may go on in the background). */
const ORDERED = ['onCreate', 'updateContent', 'postCreate', 'postStart', 'postAttach'] as const;

export interface SetupOptions {
  /** A terminal attaches next (`spoon NAME`): postAttachCommand is due, and what comes after waitFor may go on in the background. */
  attach: boolean;
}

export async function runSetupCommands(ctx: Context, name: string, plan: EnvPlan, ready: ReadyEnv, run: CommandRunner, opts: SetupOptions): Promise<void> {
  const workdir = workdirOf(plan);
  const inWorkdir = (command: string) => inFolder(workdir, command);
  const dc = plan.devcontainer;
  const createPhases: Phase[] = [
    { property: 'run_on_create', groups: plan.options.run_on_create.map((command, i) => [{ label: `run_on_create ${i + 1}/${plan.options.run_on_create.length}`, command }]) },
    ...(dc ? [phase('onCreateCommand', dc.lifecycle.onCreate), phase('updateContentCommand', dc.lifecycle.updateContent), phase('postCreateCommand', dc.lifecycle.postCreate)] : []),
  ].filter((p) => p.groups.length > 0);
  const startPhases = dc && ready.started ? [phase('postStartCommand', dc.lifecycle.postStart)] : [];
  const attachPhases = dc && opts.attach ? [phase('postAttachCommand', dc.lifecycle.postAttach)] : [];

  const engine = await ctx.engine();
  if (!ready.created) {
    if (createPhases.length > 0 && !(await engine.pathExists(ready.container.id, SETUP_DONE))) {
      // No cache for an unfinished env: every connect comes this way and says so.
      forgetEnvState(ctx.paths.envState(name));
      ctx.report.warn(`the setup commands did not finish when ${name} was created`, `look around with \`spoon exec ${name} -- ...\`; run what is missing there by hand`);
    }
    if (dc && ORDERED.some((k) => dc.lifecycle[k].length > 0)) await reportBackground(ctx, name, ready);
  }

  const due = [...(ready.created ? createPhases : []), ...startPhases, ...attachPhases].filter((p) => p.groups.length > 0);
  // run_on_create is spoon's own, and always waited for.
  const waitRank = dc && opts.attach ? ORDER[dc.waitFor] : Infinity;
  const foreground = due.filter((p) => p.property === 'run_on_create' || rank(p) <= waitRank);
  const background = due.filter((p) => !foreground.includes(p));

  for (const p of foreground) {
    await runGroups(ctx, name, p.groups, run, inWorkdir);
    if (ready.created && p === createPhases.at(-1)) await markSetupDone(ctx, ready);
  }
  if (ready.created && createPhases.length > 0 && !foreground.includes(createPhases.at(-1)!)) await markSetupDone(ctx, ready);
  if (background.length > 0) {
    const status = await run(backgroundScript(background, inWorkdir));
    const what = background.map((p) => p.property).join(', ');
    if (status !== 0) throw new CommandFailedError(`could not start ${what} in the background (exit status ${status})`, status);
    ctx.report.info(`${what} go on in the background (waitFor is ${dc!.waitFor}); output in ${BACKGROUND_LOG} in ${name}`);
  }
}

/** postAttachCommand, before a terminal attaches to an env that needed nothing else (the cached connection). */
export async function runAttachCommands(ctx: Context, name: string, plan: EnvPlan, run: CommandRunner): Promise<void> {
  const dc = plan.devcontainer;
  if (!dc || dc.lifecycle.postAttach.length === 0) return;
  const workdir = workdirOf(plan);
  await runGroups(ctx, name, phase('postAttachCommand', dc.lifecycle.postAttach).groups, run, (c) => inFolder(workdir, c));
}

/**
 * devcontainer.json's initializeCommand, on this host in the project folder (as the
 * devcontainers CLI runs it), its parts in parallel for the object form.
 */
export async function runInitializeCommand(ctx: Context, plan: EnvPlan): Promise<void> {
  const dc = plan.devcontainer;
  if (!dc || dc.lifecycle.initialize.length === 0) return;
  for (const group of dc.lifecycle.initialize) {
    const results = await Promise.all(
      group.map(async (step) => {
        const label = step.name ? `initializeCommand ${step.name}` : 'initializeCommand';
        const argv = typeof step.command === 'string' ? ['/bin/sh', '-c', step.command] : step.command;
        const shown = typeof step.command === 'string' ? step.command : shellQuote(step.command);
        ctx.report.info(`${label} (on this host): ${shown}`);
        return { label, shown, status: await runHostArgv(argv, dc.workspaceFolder, (l) => ctx.report.debug(l)) };
      }),
    );
    const failed = results.find((r) => r.status !== 0);
    if (failed) {
      throw new CommandFailedError(`${failed.label} (${failed.shown}) failed on this host with exit status ${failed.status}`, failed.status, {
        hint: `it runs in ${dc.workspaceFolder} before spoon creates or starts the env; nothing was changed in the env`,
      });
    }
  }
}

function rank(p: Phase): number {
  return ORDER[p.property as keyof typeof ORDER];
}

function phase(property: string, command: LifecycleCommand): Phase {
  return {
    property,
    groups: command.map((group) =>
      group.map((step) => ({
        label: step.name ? `${property} ${step.name}` : property,
        command: typeof step.command === 'string' ? `sh -c ${shellQuote([step.command])}` : shellQuote(step.command),
      })),
    ),
  };
}

async function markSetupDone(ctx: Context, ready: ReadyEnv): Promise<void> {
  const engine = await ctx.engine();
  await engine.putFiles(ready.container.id, [], [{ path: SETUP_DONE, content: new Date().toISOString() + '\n', mode: 0o644 }]);
  ctx.timeline.mark('setup');
}

async function runGroups(ctx: Context, name: string, groups: Step[][], run: CommandRunner, inWorkdir: (c: string) => string): Promise<void> {
  for (const group of groups) {
    const results = await Promise.all(
      group.map(async (step) => {
        ctx.report.info(`${step.label}: ${step.command}`);
        return { step, status: await run(inWorkdir(step.command)) };
      }),
    );
    const failed = results.find((r) => r.status !== 0);
    if (failed) {
      forgetEnvState(ctx.paths.envState(name));
      throw new CommandFailedError(`${failed.step.label} (${failed.step.command}) failed with exit status ${failed.status}`, failed.status, {
        hint: `${name} is left as it is: look around with \`spoon exec ${name} -- ...\``,
      });
    }
  }
}

/**
 * One detached shell in the env that runs the phases in order (a group's steps in
 * parallel), stops at the first failure and leaves its verdict in BACKGROUND_STATE.
 * nohup and redirected descriptors let the ssh session or engine exec end at once.
 */
export function backgroundScript(phases: Phase[], inWorkdir: (c: string) => string): string {
  const state = shellQuote([BACKGROUND_STATE]);
  const lines = [`echo running > ${state}`];
  for (const p of phases) {
    for (const group of p.groups) {
      lines.push(`echo ${shellQuote([`== ${group.map((s) => s.label).join(', ')}`])}`);
      group.forEach((step, i) => lines.push(`(${inWorkdir(step.command)}) & p${i}=$!`));
      lines.push('s=0');
      group.forEach((_, i) => lines.push(`wait $p${i} || { r=$?; [ $s -ne 0 ] || s=$r; }`));
      lines.push(`if [ $s -ne 0 ]; then echo ${shellQuote([`failed ${p.property}`])} $s > ${state}; exit $s; fi`);
    }
  }
  lines.push(`rm -f ${state}`);
  const script = lines.join('\n');
  return `nohup sh -c ${shellQuote([script])} </dev/null >>${shellQuote([BACKGROUND_LOG])} 2>&1 &`;
}

/** What the background commands of an earlier connect left: a failure, or (after a restart) an unfinished run. */
async function reportBackground(ctx: Context, name: string, ready: ReadyEnv): Promise<void> {
  const engine = await ctx.engine();
  const state = (await engine.readFile(ready.container.id, BACKGROUND_STATE))?.toString('utf8').trim();
  if (!state) return;
  const failed = /^failed (\S+) (\d+)$/.exec(state);
  const hint = `its output: \`spoon exec ${name} -- cat ${BACKGROUND_LOG}\`; this warning stops when ${BACKGROUND_STATE} is removed`;
  if (failed) ctx.report.warn(`${failed[1]} failed in the background in ${name} with exit status ${failed[2]}`, hint);
  else if (ready.started) ctx.report.warn(`the commands spoon ran in the background in ${name} did not finish before it stopped`, hint);
}
