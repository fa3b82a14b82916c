import { ESLint } from 'eslint';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Lints source text as if it were a file of a package, so the fixture needs no file on disk.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function lintAs(filePath: string, code: string) {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  return result!.messages.filter((m) => m.severity === 2);
}

/** The rules that reported errors, each once, sorted: which rule fired, not only that something did. */
const rulesOf = (errors: { ruleId: string | null }[]) => [...new Set(errors.map((e) => e.ruleId))].sort();

const BOUNDARIES = '@nx/enforce-module-boundaries';
const RESTRICTED = 'no-restricted-imports';

describe('dependency direction (no TensorFlow.js in contracts, data, evaluator)', () => {
  it('@irpo/data may not import TensorFlow.js', async () => {
    const errors = await lintAs('packages/data/src/fixture.ts', "import * as tf from '@tensorflow/tfjs-core';\nexport const x = tf;\n");
    // Both rules: the boundary rule's bannedExternalImports and the plain import rule.
    expect(rulesOf(errors)).toEqual([BOUNDARIES, RESTRICTED]);
    expect(errors.find((e) => e.ruleId === RESTRICTED)!.message).toMatch(/must run without TensorFlow\.js/);
  });

  it('@irpo/data may not import @irpo/core', async () => {
    const errors = await lintAs('packages/data/src/fixture.ts', "import * as core from '@irpo/core';\nexport const x = core;\n");
    expect(rulesOf(errors)).toEqual([BOUNDARIES, RESTRICTED]);
  });

  it('@irpo/evaluator may not import TensorFlow.js', async () => {
    const errors = await lintAs('packages/evaluator/src/fixture.ts', "import * as tf from '@tensorflow/tfjs';\nexport const x = tf;\n");
    expect(rulesOf(errors)).toEqual([BOUNDARIES, RESTRICTED]);
  });

  it('@irpo/data may import @irpo/contracts', async () => {
    const errors = await lintAs(
      'packages/data/src/fixture.ts',
      "import { ProblemSchema } from '@irpo/contracts';\nexport const x = ProblemSchema;\n",
    );
    expect(errors).toEqual([]);
  });
});

describe('Nx module boundaries', () => {
  it('@irpo/core may not import @irpo/model (points the wrong way)', async () => {
    const errors = await lintAs('packages/core/src/fixture.ts', "import * as model from '@irpo/model';\nexport const x = model;\n");
    expect(rulesOf(errors)).toEqual([BOUNDARIES]);
  });

  it('@irpo/core may import @irpo/tfjs-wasm-node', async () => {
    const errors = await lintAs(
      'packages/core/src/fixture.ts',
      "import { setupWasmBackend } from '@irpo/tfjs-wasm-node';\nexport const x = setupWasmBackend;\n",
    );
    expect(errors).toEqual([]);
  });

  it('@irpo/tfjs-wasm-node imports no irpo package (it is published for any TensorFlow.js user)', async () => {
    for (const pkg of ['@irpo/contracts', '@irpo/core']) {
      const errors = await lintAs('packages/tfjs-wasm-node/src/fixture.ts', `import * as m from '${pkg}';\nexport const x = m;\n`);
      expect(rulesOf(errors), pkg).toEqual([BOUNDARIES, RESTRICTED]);
    }
  });

  it('@irpo/data may not import @irpo/tfjs-wasm-node (TensorFlow.js)', async () => {
    const errors = await lintAs('packages/data/src/fixture.ts', "import * as w from '@irpo/tfjs-wasm-node';\nexport const x = w;\n");
    expect(rulesOf(errors)).toEqual([BOUNDARIES, RESTRICTED]);
  });

  it('@irpo/sampler may not import @irpo/data (sampling sees tasks only through SamplingTask)', async () => {
    const errors = await lintAs('packages/sampler/src/fixture.ts', "import { getTask } from '@irpo/data';\nexport const x = getTask;\n");
    expect(rulesOf(errors)).toEqual([BOUNDARIES]);
  });

  it('@irpo/sampler may import @irpo/model', async () => {
    const errors = await lintAs(
      'packages/sampler/src/fixture.ts',
      "import { CharTokenizer } from '@irpo/model';\nexport const x = CharTokenizer;\n",
    );
    expect(errors).toEqual([]);
  });
});
