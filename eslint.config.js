// One lint config for the workspace. The Nx module-boundary rule enforces the dependency
// direction between packages (see ARCHITECTURE.md) through project tags (package.json "nx.tags"):
//   contracts <- core <- model <- sampler, trainer, onnx <- recipes <- cli
//   contracts <- data, evaluator <- recipes
//   tfjs-wasm-node <- core   (tfjs-wasm-node is publishable on its own: it imports no irpo package)
// and keeps TensorFlow.js out of the packages tagged tfjs:none.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const tfjsBanned = [
  '@tensorflow/*',
  '@irpo/tfjs-wasm-node',
  '@irpo/core',
  '@irpo/model',
  '@irpo/sampler',
  '@irpo/trainer',
  '@irpo/recipes',
];

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.nx/**', '**/fixtures/**', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          enforceBuildableLibDependency: false,
          // Lazy `await import()` is how the CLI keeps start-up fast; it is not bundle splitting,
          // so a package may be imported lazily in one place and statically in another.
          checkDynamicDependenciesExceptions: ['@irpo/*'],
          depConstraints: [
            { sourceTag: 'scope:contracts', onlyDependOnLibsWithTags: [], bannedExternalImports: ['@tensorflow/*'] },
            { sourceTag: 'scope:data', onlyDependOnLibsWithTags: ['scope:contracts'], bannedExternalImports: ['@tensorflow/*'] },
            {
              sourceTag: 'scope:evaluator',
              onlyDependOnLibsWithTags: ['scope:contracts', 'scope:data'],
              bannedExternalImports: ['@tensorflow/*'],
            },
            { sourceTag: 'scope:wasm-runtime', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:core', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:wasm-runtime'] },
            { sourceTag: 'scope:model', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:core'] },
            { sourceTag: 'scope:sampler', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:core', 'scope:model'] },
            { sourceTag: 'scope:trainer', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:core', 'scope:model'] },
            { sourceTag: 'scope:onnx', onlyDependOnLibsWithTags: ['scope:contracts', 'scope:core', 'scope:model'] },
            {
              sourceTag: 'scope:recipes',
              onlyDependOnLibsWithTags: [
                'scope:contracts',
                'scope:core',
                'scope:model',
                'scope:data',
                'scope:sampler',
                'scope:evaluator',
                'scope:trainer',
                'scope:onnx',
              ],
            },
            {
              sourceTag: 'scope:cli',
              onlyDependOnLibsWithTags: [
                'scope:contracts',
                'scope:core',
                'scope:model',
                'scope:data',
                'scope:sampler',
                'scope:evaluator',
                'scope:trainer',
                'scope:onnx',
                'scope:recipes',
              ],
            },
            { sourceTag: 'scope:tools', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    // Belt and braces for the packages that must run without TensorFlow.js: a plain
    // import rule that needs no project graph.
    files: ['packages/contracts/**/*.ts', 'packages/data/**/*.ts', 'packages/evaluator/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: tfjsBanned, message: 'this package must run without TensorFlow.js (see ARCHITECTURE.md)' }] },
      ],
    },
  },
  {
    // tfjs-wasm-node is for any TensorFlow.js user in Node: no irpo package may leak into it.
    files: ['packages/tfjs-wasm-node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['@irpo/*'], message: '@irpo/tfjs-wasm-node depends on @tensorflow/* packages only' }] },
      ],
    },
  },
  {
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
