// Runs the compiled tests with node's test runner. `unit` runs only the unit
// suite; the default runs unit then end-to-end tests against the real engine.
// Set SPOON_SKIP_E2E=1 to skip the engine tests on purpose (they fail, not
// skip, when no engine answers).
import { spawnSync } from 'node:child_process';

const which = process.argv[2] ?? 'all';
const dirs = [];
if (which === 'all' || which === 'unit') dirs.push('build/test/unit');
if ((which === 'all' && process.env.SPOON_SKIP_E2E !== '1') || which === 'e2e') dirs.push('build/test/e2e');

const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...dirs], { stdio: 'inherit' });
process.exit(res.status ?? 1);
