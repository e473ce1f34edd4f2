// ESLint flat config for the whole workspace.
// Module boundaries (by the `nx.tags` in each project's package.json):
//   type:app      may import type:lib only (never another app)
//   type:lib      may import type:lib only (libs never import apps or test helpers)
//   type:testing  may import type:lib and type:testing; only test code may import it
//   type:tool     (bench/, chaos/: harnesses run by hand or by their smoke tests) may import
//                 type:lib and type:testing
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const testFiles = [
  '**/*.spec.ts',
  '**/*.test.ts',
  '**/test/**/*.ts',
  'bench/**/*.ts',
  'chaos/**/*.ts',
  'libs/testing/**/*.ts',
];

const boundaries = (extraForAll) => [
  'error',
  {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib', ...extraForAll] },
      { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib', ...extraForAll] },
      { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
      { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:testing'] },
    ],
  },
];

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      'reports/**',
      'bench/results/**',
      'chaos/results/**',
      '.nx/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    files: ['**/*.ts', '**/*.mts', '**/*.js', '**/*.mjs'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries([]),
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-console': 'error',
    },
  },
  {
    files: testFiles,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(['type:testing']),
      'no-console': 'off',
    },
  },
  {
    // Tool configuration at a project's root may import the workspace's shared config.
    files: ['**/vitest.config.ts', '**/vitest.*.config.ts', '**/vite.config.ts'],
    rules: { '@nx/enforce-module-boundaries': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '.ci/**', 'scripts/**', 'docker/**'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        fetch: 'readonly',
        AbortSignal: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: { 'no-console': 'off' },
  },
);
