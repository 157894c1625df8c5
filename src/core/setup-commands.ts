/**
 * Commands spoon runs for the user when an env comes up: `run_on_create` and a
 * devcontainer's onCreateCommand + postCreateCommand once, right after the env
 * is created, then postStartCommand after every start. A failing command stops
 * spoon with its status and leaves the env to be inspected; later connects say
 * that setup did not finish.
 */
import type { LifecycleCommand } from '../config/devcontainer.js';
import { CommandFailedError } from '../errors.js';
import { inFolder, shellQuote } from '../ssh/args.js';
import { forgetEnvState } from '../state/env-state.js';
import type { Context } from './context.js';
import type { ReadyEnv } from './ensure-env.js';
import type { EnvPlan } from './plan.js';
import { workdirOf } from './plan.js';
import { SETUP_DONE } from './provision.js';

/** Runs one shell command line in the env, output passed through; resolves with its status. */
export type CommandRunner = (command: string) => Promise<number>;

interface Step {
  label: string;
  command: string;
}

export async function runSetupCommands(ctx: Context, name: string, plan: EnvPlan, ready: ReadyEnv, run: CommandRunner): Promise<void> {
  const workdir = workdirOf(plan);
  const inWorkdir = (command: string) => inFolder(workdir, command);
  const dc = plan.devcontainer;
  const createGroups: Step[][] = [
    ...plan.options.run_on_create.map((command, i) => [{ label: `run_on_create ${i + 1}/${plan.options.run_on_create.length}`, command }]),
    ...(dc ? toGroups('onCreateCommand', dc.lifecycle.onCreate) : []),
    ...(dc ? toGroups('postCreateCommand', dc.lifecycle.postCreate) : []),
  ];
  const startGroups = dc ? toGroups('postStartCommand', dc.lifecycle.postStart) : [];

  if (createGroups.length > 0) {
    const engine = await ctx.engine();
    if (ready.created) {
      await runGroups(ctx, name, createGroups, run, inWorkdir);
      await engine.putFiles(ready.container.id, [], [{ path: SETUP_DONE, content: new Date().toISOString() + '\n', mode: 0o644 }]);
      ctx.timeline.mark('setup');
    } else if (!(await engine.pathExists(ready.container.id, SETUP_DONE))) {
      // No cache for an unfinished env: every connect comes this way and says so.
      forgetEnvState(ctx.paths.envState(name));
      ctx.report.warn(`the setup commands did not finish when ${name} was created`, `look around with \`spoon exec ${name} -- ...\`; run what is missing there by hand`);
    }
  }
  if (ready.started && startGroups.length > 0) await runGroups(ctx, name, startGroups, run, inWorkdir);
}

/** A devcontainer lifecycle command as groups of steps; the steps of one group run in parallel. */
function toGroups(property: string, command: LifecycleCommand): Step[][] {
  return command.map((group) =>
    group.map((step) => ({
      label: step.name ? `${property} ${step.name}` : property,
      command: typeof step.command === 'string' ? `sh -c ${shellQuote([step.command])}` : shellQuote(step.command),
    })),
  );
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
