// Runs the compiled tests with node's test runner. `unit` runs only the unit
// suite; the default runs unit then end-to-end tests against the real engine.
// Set SPOON_SKIP_E2E=1 to skip the engine tests on purpose (they fail, not
// skip, when no engine answers).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const which = process.argv[2] ?? 'all';
const dirs = [];
if (which === 'all' || which === 'unit') dirs.push('build/test/unit');
if ((which === 'all' && process.env.SPOON_SKIP_E2E !== '1') || which === 'e2e') dirs.push('build/test/e2e');

const present = dirs.filter((d) => existsSync(d));
if (present.length === 0) {
  console.error(`run-tests: none of ${dirs.join(', ')} exists; did the build run?`);
  process.exit(1);
}
const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...present], { stdio: 'inherit' });
process.exit(res.status ?? 1);
