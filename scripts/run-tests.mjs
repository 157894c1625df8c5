// Runs the compiled tests with node's test runner. `unit` runs only the unit
// suite; `e2e` only the engine tests; the default runs unit and end-to-end tests
// against the real engine, then, on their own, the disruptive ones (they restart
// the engine, so nothing else may run beside them). Set SPOON_SKIP_E2E=1 to skip
// the engine tests on purpose (they fail, not skip, when no engine answers).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const which = process.argv[2] ?? 'all';
if (!['all', 'unit', 'e2e'].includes(which)) {
  console.error(`run-tests: unknown suite '${which}' (all, unit or e2e)`);
  process.exit(2);
}
const unit = which !== 'e2e';
const engine = which === 'e2e' || (which === 'all' && process.env.SPOON_SKIP_E2E !== '1');
// One runner for the unit and ordinary end-to-end tests, then one for the disruptive phase.
const runs = [[...(unit ? ['build/test/unit'] : []), ...(engine ? ['build/test/e2e'] : [])], engine ? ['build/test/e2e-disruptive'] : []].filter((r) => r.length);

const missing = runs.flat().filter((d) => !existsSync(d));
if (missing.length) {
  console.error(`run-tests: ${missing.join(', ')} missing; did the build run?`);
  process.exit(1);
}
for (const dirs of runs) {
  const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...dirs], { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
