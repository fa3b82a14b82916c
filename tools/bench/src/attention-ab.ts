/**
 * `node --conditions=@irpo/source --import ../test-support/ts-loader.mjs src/attention-ab.ts [train|reflogp] [config] [reps]`
 * (from tools/bench): the same step with the fused attention kernel and with the composite ops,
 * alternating in one process (`LlamaModel.fusedAttention`), so both see the same machine load;
 * prints the median of each. Separate processes on a shared VM move by ±20% between runs, which
 * hides a change of that size.
 */
import { initBackend } from '@irpo/core';
import { LlamaModel } from '@irpo/model';
import { BENCH_CONFIGS } from './configs.js';
import { trainPhase, reflogpPhase } from './phases.js';
import { median } from './measure.js';
const phase = process.argv[2] ?? 'train';
const config = BENCH_CONFIGS[process.argv[3] ?? 'tiny']!;
const reps = Number(process.argv[4] ?? 8);
await initBackend('wasm', {});
const run = (phase === 'train' ? trainPhase : reflogpPhase)(config);
const t: Record<string, number[]> = { fused: [], composite: [] };
for (let i = 0; i < reps + 1; i++) {
  for (const mode of ['fused', 'composite']) {
    LlamaModel.fusedAttention = mode === 'fused';
    const t0 = performance.now();
    await run.step();
    if (i > 0) t[mode]!.push(performance.now() - t0);
  }
}
console.log(
  JSON.stringify({
    phase,
    config: config.name,
    fused_ms: Math.round(median(t.fused!)),
    composite_ms: Math.round(median(t.composite!)),
    fused: t.fused!.map(Math.round),
    composite: t.composite!.map(Math.round),
  }),
);
process.exit(0);
