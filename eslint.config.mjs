// Lint: typescript-eslint's recommended rules, plus the layering rules the layout depends on.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.state/**', 'bench/results/**', 'out/**'] },
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
      'no-restricted-imports': ['error', { patterns: ['@temporalio/*', 'node:*', 'fs', 'child_process', 'http', 'https', '../activities/*', '../workflows/*', '../client/*', '../workers/*'] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'core/ is deterministic: use a seeded PRNG' }, { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'core/ is deterministic: pass time in' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'child_process', 'http', 'https', '../client/*', '../workers/*', '../infra/*'] }],
      'no-restricted-syntax': ['error', { selector: "MemberExpression[object.name='Math'][property.name='random']", message: 'workflow code must be deterministic' }, { selector: "MemberExpression[object.name='Date'][property.name='now']", message: 'workflow code must be deterministic' }],
    },
  },
  {
    files: ['activities/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../workflows/*', '../../workflows/*'] }] },
  },
);
