/** Builds the core Context from the global flags and the process environment. */
import type { Context, ProcessHooks, Terminal } from '../core/context.js';
import { Timeline } from '../core/timeline.js';
import type { Engine } from '../engine/engine.js';
import { insecureEngineWarning, resolveEndpoint } from '../engine/endpoint.js';
import { connectEngine } from '../engine/index.js';
import { statePaths } from '../state/paths.js';
import { stderrReporter } from './reporter.js';
import { resolveBackend } from './settings.js';

export interface GlobalFlags {
  engine?: string;
  verbose?: boolean;
  debug?: boolean;
  backend?: string;
  config?: string;
}

export function buildContext(flags: GlobalFlags): Context {
  const env = process.env;
  const report = stderrReporter({ verbose: flags.verbose ?? false, debug: flags.debug ?? false, tty: process.stderr.isTTY === true });
  const endpoint = resolveEndpoint(flags.engine, env);
  let engine: Promise<Engine> | undefined;
  const connectOnce = async () => {
    // Said once, when the engine is first used (a process has one context): not on every request.
    const warning = insecureEngineWarning(endpoint);
    if (warning) report.warn(warning.message, warning.hint);
    const backend = await resolveBackend({ backend: flags.backend, config: flags.config }, env, process.cwd());
    return connectEngine(endpoint, flags.debug ? (l) => report.debug(l) : undefined, backend);
  };
  return {
    env,
    paths: statePaths(env),
    endpoint,
    engine: () => (engine ??= connectOnce()),
    report,
    timeline: new Timeline(),
    interactive: { stdin: process.stdin.isTTY === true, stdout: process.stdout.isTTY === true },
    terminal: processTerminal(),
    proc: processHooks(),
  };
}

/** This process's stdio, for core's terminal. */
export function processTerminal(): Terminal {
  return { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
}

/** This process's signals, exit and id, for core (which never touches `process`). */
export function processHooks(): ProcessHooks {
  return {
    pid: process.pid,
    on: (event, listener) => void process.on(event, listener),
    once: (event, listener) => void process.once(event, listener),
    off: (event, listener) => void process.off(event, listener),
    exit: (status) => process.exit(status),
    alive: (pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    },
  };
}
