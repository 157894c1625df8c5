/**
 * What every use-case gets handed: where state lives, how to reach the engine
 * (created on first use, so commands that never need it never load it), and how
 * to report. core never prints; it calls the reporter the CLI passes in.
 */
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

export interface Context {
  env: Record<string, string | undefined>;
  paths: StatePaths;
  endpoint: EngineEndpoint;
  engine(): Promise<Engine>;
  report: Reporter;
  timeline: Timeline;
  interactive: { stdin: boolean; stdout: boolean };
}
