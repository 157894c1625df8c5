/** The CLI's Reporter: everything but results goes to stderr; --verbose and --debug add detail. */
import type { Reporter } from '../core/context.js';

export interface ReporterFlags {
  verbose: boolean;
  debug: boolean;
  /** stderr is a terminal: stream progress there. */
  tty: boolean;
}

export function stderrReporter(flags: ReporterFlags): Reporter {
  const write = (line: string) => process.stderr.write(line + '\n');
  return {
    info: (m) => write(m),
    progress: (line) => {
      if (flags.tty || flags.debug) write(`  ${line}`);
    },
    warn: (m, hint) => {
      write(`spoon: warning: ${m}`);
      if (hint) write(`hint: ${hint}`);
    },
    verbose: (m) => {
      if (flags.verbose || flags.debug) write(`spoon: ${m}`);
    },
    debug: (m) => {
      if (flags.debug) write(`spoon: debug: ${m}`);
    },
  };
}
