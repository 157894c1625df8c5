/**
 * What every use-case gets handed: where state lives, how to reach the engine
 * (created on first use, so commands that never need it never load it), and how
 * to report. core never prints; it calls the reporter the CLI passes in.
 */
import type { Readable, Writable } from 'node:stream';
import type { Engine } from '../engine/engine.js';
import type { EngineEndpoint } from '../engine/endpoint.js';
import type { StatePaths } from '../state/paths.js';
import type { Timeline } from './timeline.js';

export interface Reporter {
  /** What a user wants to know ("building the default image"): stderr. */
  info(message: string): void;
  /** Streamed detail (build and pull output): shown only on a terminal. */
  progress(line: string): void;
  warn(message: string, hint?: string): void;
  /** --verbose only. */
  verbose(message: string): void;
  /** --debug only: engine requests, ssh command lines. */
  debug(message: string): void;
}

/** The terminal (or pipes) spoon was started with: the exec path binds it to the env, `spoon proxy` relays over it. */
export interface Terminal {
  stdin: Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?(raw: boolean): unknown };
  stdout: TerminalOutput;
  stderr: TerminalOutput;
}

export type TerminalOutput = Writable & { isTTY?: boolean; columns?: number; rows?: number };

export type ProcessEvent = NodeJS.Signals | 'exit';

/**
 * This process's signals, exit and id, as the CLI hands them over: core never touches
 * `process` itself, so its use-cases run in tests with a stand-in.
 */
export interface ProcessHooks {
  /** This process's id: the records a running process leaves (forwards, the paused marker) name it. */
  readonly pid: number;
  on(event: ProcessEvent, listener: () => void): void;
  once(event: ProcessEvent, listener: () => void): void;
  off(event: ProcessEvent, listener: () => void): void;
  /** Ends the process with `status`. */
  exit(status: number): void;
  /** Whether a process with this id runs on this host. */
  alive(pid: number): boolean;
}

export interface Context {
  env: Record<string, string | undefined>;
  paths: StatePaths;
  endpoint: EngineEndpoint;
  engine(): Promise<Engine>;
  report: Reporter;
  timeline: Timeline;
  interactive: { stdin: boolean; stdout: boolean };
  terminal: Terminal;
  proc: ProcessHooks;
}
