/** y/N questions on the terminal (stderr), for destroy and for recreating a broken env. */
import { createInterface } from 'node:readline/promises';
import type { ConfirmRecreate } from '../core/heal.js';

export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

/** `--yes` answers for the user; without it, only a terminal can be asked. */
export function recreateConsent(flags: Record<string, unknown>): ConfirmRecreate {
  if (flags.yes === true) return async () => true;
  return process.stdin.isTTY ? confirm : undefined;
}
