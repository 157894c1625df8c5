/** `spoon doctor`: one line per check, a fix under each problem; exit 1 if any failed. */
import type { Context } from '../../core/context.js';
import { runDoctor } from '../../core/doctor.js';
import { printJson } from '../output.js';

export async function doctorCommand(ctx: Context, flags: { json?: boolean }): Promise<number> {
  const checks = await runDoctor(ctx);
  if (flags.json) printJson(checks);
  else {
    for (const c of checks) {
      process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}\n`);
      if (c.fix) process.stdout.write(`     fix: ${c.fix}\n`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
