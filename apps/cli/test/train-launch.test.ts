import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunConfigSchema, type RunConfigInput } from '@irpo/contracts';
import { createProgress, runIterativeRpo } from '@irpo/recipes';
import { describe, expect, it } from 'vitest';
import { bin } from './irpo-bin.js';
import { tinyModel } from './tiny-model.js';

/**
 * `irpo train --config {config} --iteration {iter}` as a run's training.launch: each iteration
 * trained in another process, from the pairs the run wrote for it, must give the very weights
 * the in-process run gives (the run's seed, batch, epochs of that iteration, lr, loss).
 */
const quiet = createProgress(process.stderr, true);
const launch = `${process.execPath} ${bin} train --config {config} --iteration {iter} --model {model} --pairs {pairs} --out {out} --log-level warn`;

describe('training.launch with irpo train', () => {
  it('gives iter-t/model/model.safetensors byte-equal to the in-process run', { timeout: 900_000 }, async () => {
    if (!existsSync(fileURLToPath(new URL('../dist/cli.js', import.meta.url))))
      throw new Error('apps/cli/dist is missing: build first (NX_DAEMON=false npx nx run-many -t build)');
    const root = await mkdtemp(join(tmpdir(), 'irpo-train-launch-'));
    const m0 = await tinyModel(join(root, 'm0'));
    const config = (training: RunConfigInput['training']) =>
      RunConfigSchema.parse({
        seed: 7,
        model: m0,
        backend: 'wasm',
        iterations: 2,
        task: { name: 'arith', trainLimit: 6, testLimit: 2, goldAsWinner: true },
        iteration: { n: 2, k: 2, maxNewTokens: 8, temperature: 1, dropTruncated: false, epochs: 2 },
        overrides: [{}, { epochs: 1 }], // iteration 2 trains differently: --iteration must apply it
        training: { lr: 1e-3, batchSize: 4, alpha: 0.5, ...training },
        eval: { maxNewTokens: 8 },
      });
    await runIterativeRpo(config({}), { out: join(root, 'local'), progress: quiet });
    await runIterativeRpo(config({ launch }), { out: join(root, 'launched'), progress: quiet });
    for (const t of [1, 2]) {
      const weights = (run: string) => readFile(join(root, run, `iter-${t}`, 'model', 'model.safetensors'));
      expect((await weights('launched')).equals(await weights('local')), `iteration ${t}`).toBe(true);
      // irpo train's own train-log.jsonl became the run's
      const steps = async (run: string) =>
        (await readFile(join(root, run, `iter-${t}`, 'train-log.jsonl'), 'utf8')).trim().split('\n').length;
      expect(await steps('launched')).toBe(await steps('local'));
    }
    expect(await readFile(join(root, 'launched', 'iter-1', 'train.log'), 'utf8')).toMatch(
      /^=== irpo \S+: .* train --config \S+run\.json --iteration 1 /,
    );
  });
});
