/**
 * Rewrites docker-spoon's habits into spoon's command words before parsing:
 * `spoon -l` → `spoon list`, `spoon -d NAME` → `spoon destroy NAME`, and so on,
 * and lets `spoon exec NAME CMD...` pass CMD's own flags through untouched.
 */

/** docker-spoon's top-level flags and the command each stands for. */
const LEGACY_COMMAND_FLAGS: Record<string, string> = {
  '-l': 'list',
  '--list': 'list',
  '-d': 'destroy',
  '--destroy': 'destroy',
  '-n': 'ports',
  '--network': 'ports',
  '--kill': 'stop',
  '--restart': 'restart',
  '--list-images': 'images',
  '-b': 'build',
  '--build': 'build',
};

/** Options (global or of up/exec) that take a value, so their value is not mistaken for NAME. */
export const VALUE_OPTIONS = new Set([
  '--engine',
  '--url',
  '--config',
  '--builddir',
  '-e',
  '--env',
  '--volume',
  '--persist',
  '--cpus',
  '--cpu-shares',
  '--memory',
  '--dns',
  '--authorized-key',
  '--run-on-create',
  '--shell',
  '--command',
  '-t',
  '--tag',
  '--key',
  '--as',
  '--image',
  '-p',
  '--publish',
  '-L',
  '--forward',
  '--user',
  '--listen',
  '--session',
  '--label',
  '--prefix',
  '--from',
]);

export function rewriteArgv(argv: string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length; i++) {
    const token = out[i] ?? '';
    if (token === '--') break;
    if (VALUE_OPTIONS.has(token)) {
      i++;
      continue;
    }
    const legacy = LEGACY_COMMAND_FLAGS[token];
    if (legacy) {
      out[i] = legacy;
      break;
    }
    if (token.startsWith('-')) continue;
    if (token === 'exec') return withExecSeparator(out, i);
    break;
  }
  return out;
}

/** Inserts `--` after exec's NAME so everything after it is CMD, as with `docker exec`. */
function withExecSeparator(argv: string[], execAt: number): string[] {
  for (let i = execAt + 1; i < argv.length; i++) {
    const token = argv[i] ?? '';
    if (token === '--') return argv;
    if (VALUE_OPTIONS.has(token)) {
      i++;
      continue;
    }
    if (token.startsWith('-')) continue;
    if (argv[i + 1] === '--') return argv;
    return [...argv.slice(0, i + 1), '--', ...argv.slice(i + 1)];
  }
  return argv;
}
