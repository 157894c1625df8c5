/**
 * spoon's entry point. `--version` is answered before anything else is loaded
 * (it is measured against `node -e 0`); everything else goes through cli/main.
 */
import { spoonVersion } from './core/labels.js';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
  process.stdout.write(`${spoonVersion}\n`);
} else {
  const { main } = await import('./cli/main.js');
  process.exitCode = await main(argv);
}
