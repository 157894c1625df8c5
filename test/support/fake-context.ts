/**
 * A core Context around a FakeEngine: its own state folder and HOME (removed by
 * dispose), a reporter that records what core says, and helpers to make plans.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { defaultOptions, type EnvOptions } from '../../src/config/schema.js';
import type { Context, ProcessEvent, ProcessHooks, Reporter } from '../../src/core/context.js';
import { planEnv, type EnvPlan } from '../../src/core/plan.js';
import { Timeline } from '../../src/core/timeline.js';
import { defaultImageTag } from '../../src/images/default-image.js';
import { readEnvState } from '../../src/state/env-state.js';
import { statePaths } from '../../src/state/paths.js';
import { FakeEngine } from './fake-engine.js';

export interface Said {
  kind: 'info' | 'progress' | 'warn' | 'verbose' | 'debug';
  message: string;
}

/** Signals a test sends (emit), exits it observes, and the pids it calls alive. */
export class FakeProcess implements ProcessHooks {
  readonly pid = 4242;
  readonly events = new EventEmitter();
  readonly exits: number[] = [];
  readonly living = new Set<number>([this.pid]);
  on(event: ProcessEvent, listener: () => void): void {
    this.events.on(event, listener);
  }
  once(event: ProcessEvent, listener: () => void): void {
    this.events.once(event, listener);
  }
  off(event: ProcessEvent, listener: () => void): void {
    this.events.off(event, listener);
  }
  exit(status: number): void {
    this.exits.push(status);
  }
  alive(pid: number): boolean {
    return this.living.has(pid);
  }
  /** Delivers a signal as the OS would: false when nobody handles it (the process would die of it). */
  signal(signal: NodeJS.Signals): boolean {
    return this.events.emit(signal);
  }
}

export interface FakeSetup {
  engine: FakeEngine;
  proc: FakeProcess;
  /** What core wrote to the terminal's stderr. */
  stderr(): string;
  ctx: Context;
  /** Everything core reported, in order. */
  said: Said[];
  dir: string;
  /** The plan of an env with spoon's default image and `options` over the defaults. */
  plan(options?: Partial<EnvOptions>): EnvPlan;
  /** A ControlMaster stand-in on the env's control socket, so connect() takes its cached path without ssh. */
  fakeMaster(name: string): Promise<void>;
  dispose(): void;
}

export function fakeSetup(): FakeSetup {
  const dir = mkdtempSync(join(tmpdir(), 'spoon-fake-'));
  const env = { HOME: join(dir, 'home'), XDG_STATE_HOME: join(dir, 'state') };
  mkdirSync(env.HOME);
  const engine = new FakeEngine();
  engine.addSshImage([defaultImageTag()]);
  const said: Said[] = [];
  const say = (kind: Said['kind']) => (message: string) => void said.push({ kind, message });
  const report: Reporter = { info: say('info'), progress: say('progress'), warn: say('warn'), verbose: say('verbose'), debug: say('debug') };
  let stderrText = '';
  const stderr = new PassThrough();
  stderr.on('data', (d: Buffer) => (stderrText += d.toString()));
  const ctx: Context = {
    env,
    paths: statePaths(env),
    endpoint: engine.endpoint,
    engine: async () => engine,
    report,
    timeline: new Timeline(),
    interactive: { stdin: false, stdout: false },
    terminal: { stdin: new PassThrough(), stdout: new PassThrough(), stderr },
    proc: new FakeProcess(),
  };
  const servers: Server[] = [];
  return {
    engine,
    proc: ctx.proc as FakeProcess,
    stderr: () => stderrText,
    ctx,
    said,
    dir,
    plan: (options = {}) => planEnv({ ...defaultOptions(), ...options }, undefined),
    fakeMaster: async (name) => {
      const state = readEnvState(ctx.paths.envState(name));
      if (!state) throw new Error(`no state for ${name}: ensure it first`);
      const path = ctx.paths.controlPath(name, state.containerId);
      mkdirSync(dirname(path), { recursive: true });
      const server = createServer((sock) => sock.destroy());
      await new Promise<void>((resolve) => server.listen(path, resolve));
      servers.push(server);
    },
    dispose: () => {
      engine.close();
      for (const s of servers) s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
