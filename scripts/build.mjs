// Bundles the CLI into dist/ with esbuild. Code splitting keeps each command
// (and heavy modules such as the engine client) in its own chunk, loaded only
// when a command needs it, so `spoon --version` stays close to `node -e 0`.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });

await build({
  entryPoints: { spoon: 'src/bin.ts' },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  // Prefer packages' ES module builds: jsonc-parser's UMD build cannot be bundled.
  mainFields: ['module', 'main'],
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  // commander and tar-stream are CommonJS: give every chunk a require() to load them with.
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as __spoonCreateRequire } from 'node:module';\nconst require = __spoonCreateRequire(import.meta.url);" },
  define: { SPOON_VERSION: JSON.stringify(pkg.version) },
  sourcemap: 'linked',
  logLevel: 'warning',
});
