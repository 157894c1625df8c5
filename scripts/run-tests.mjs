// Runs the compiled tests with node's test runner. `unit` runs only the unit
// suite; the default runs unit then end-to-end tests against the real engine,
// then, on their own, the disruptive ones (they restart the engine, so nothing
// else may run beside them). Set SPOON_SKIP_E2E=1 to skip the engine tests on
// purpose (they fail, not skip, when no engine answers).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const which = process.argv[2] ?? 'all';
const engine = (which === 'all' && process.env.SPOON_SKIP_E2E !== '1') || which === 'e2e';
const phases = [];
if (which === 'all' || which === 'unit') phases.push(['build/test/unit']);
if (engine) phases.push(['build/test/e2e'], ['build/test/e2e-disruptive']);

const missing = phases.flat().filter((d) => !existsSync(d));
if (missing.length) {
  console.error(`run-tests: ${missing.join(', ')} missing; did the build run?`);
  process.exit(1);
}
// Unit and ordinary end-to-end tests run in one runner; the disruptive phase after.
const runs = engine ? [phases.slice(0, -1).flat(), phases.at(-1)] : [phases.flat()];
for (const dirs of runs) {
  const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...dirs], { stdio: 'inherit' });
  if (res.status !== 0) process.exit(res.status ?? 1);
}
