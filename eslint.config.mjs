// Lint: typescript-eslint's recommended rules, plus the layering rules the layout depends on
// (test/unit/lint-rules.test.ts lints broken samples to show that each one fires).
import tseslint from 'typescript-eslint';

/** Import patterns for a top-level folder, from any depth (`../x`, `../../x/y`, …). */
const folder = (name) => [`**/${name}`, `**/${name}/**`];
const NODE_IO = ['node:*', 'fs', 'child_process', 'http', 'https'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'examples/*/node_modules/**', '.tools/**', '.state/**', 'bench/results/**', 'out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  { files: ['bin/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@temporalio/*', ...NODE_IO], message: 'core/ is pure: no Temporal, no Node I/O' },
            { group: ['activities', 'workflows', 'client', 'workers', 'infra'].flatMap(folder), message: 'core/ imports only core/' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'core/ is deterministic: use a seeded PRNG' }, { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'core/ is deterministic: pass time in' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      // The typescript-eslint variant, for allowTypeImports: activity code runs in workers, never in
      // the workflow sandbox, so workflows may name only its types (`import type`).
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: NODE_IO, message: 'workflow code is deterministic: no Node I/O' },
            { group: ['client', 'workers', 'infra'].flatMap(folder), message: 'workflows/ import only core/ and activity types' },
            { group: folder('activities'), allowTypeImports: true, message: 'workflows/ may import activities/ only as types: use `import type`' },
          ],
        },
      ],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'workflow code must be deterministic' }, { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'workflow code must be deterministic' }],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ group: folder('workflows'), message: 'activities/ never import workflows/' }] }] },
  },
);
