import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'node_modules/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'off',
    },
  },
  {
    // Dependencies point inward: core and engine never import the CLI layer,
    // and only src/engine talks to the Engine API.
    files: ['src/core/**/*.ts', 'src/engine/**/*.ts', 'src/ssh/**/*.ts', 'src/images/**/*.ts', 'src/config/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/cli/**', '../cli/*'], message: 'core/engine/ssh must not depend on the CLI layer' }] }],
    },
  },
  {
    // Terminal, signals and exit belong to the CLI layer: core and pairing get them through
    // their Context (terminal, proc, env), so their use-cases run in tests without a process.
    files: ['src/core/**/*.ts', 'src/pairing/**/*.ts'],
    rules: {
      'no-restricted-globals': ['error', { name: 'process', message: 'use the Context (ctx.terminal, ctx.proc, ctx.env) that src/cli/context.ts provides' }],
      'no-restricted-properties': ['error', { object: 'globalThis', property: 'process', message: 'use the Context that src/cli/context.ts provides' }],
      // Replaces the rule above for these files, so it repeats the CLI patterns.
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'node:process', message: 'use the Context that src/cli/context.ts provides' },
            { name: 'process', message: 'use the Context that src/cli/context.ts provides' },
          ],
          patterns: [{ group: ['**/cli/**', '../cli/*'], message: 'core/engine/ssh must not depend on the CLI layer' }],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'bench/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
