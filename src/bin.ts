/**
 * spoon's entry point. `--version` is answered before anything else is loaded
 * (it is measured against `node -e 0`); everything else goes through cli/main.
 */
import { spoonVersion } from './core/labels.js';

// Before anything is written: a reader that goes away early (`spoon --help | head -1`)
// ends spoon's output, not spoon. Without a listener node turns the failed write (EPIPE)
// into an uncaught exception with a stack trace. The command finishes as usual and
// exits with its own status; what it still writes goes nowhere. Any other failure to
// write (a full disk under `> file`) is said once and makes the exit status 1.
let outputLost = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE' || outputLost) return;
  outputLost = true;
  process.stderr.write(`spoon: cannot write the output: ${err.message}\n`);
  process.exitCode = 1;
});
// Nowhere left to say anything when stderr itself fails.
process.stderr.on('error', () => {});

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${spoonVersion}\n`);
} else {
  const { main } = await import('./cli/main.js');
  const code = await main(argv);
  process.exitCode = code === 0 && outputLost ? 1 : code;
}
