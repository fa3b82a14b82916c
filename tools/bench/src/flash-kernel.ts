/**
 * `node --conditions=@irpo/source --import ../test-support/ts-loader.mjs src/flash-kernel.ts [config]`
 * (from tools/bench): the fused attention kernel alone on a config's train shape (tiny: [32, 128,
 * 4 heads, 32]), forward and backward, on 1 thread and on every core; ms per call and GFLOP/s of
 * the causal work (2 multiply-adds per (query, key) pair and head dim forward, 5 backward).
 */
import { availableParallelism } from 'node:os';
import { flashAttentionWarmUp, flashBackward, flashForward } from '@irpo/model';
import { BENCH_CONFIGS } from './configs.js';

const config = BENCH_CONFIGS[process.argv[2] ?? 'tiny']!;
const { numHeads: heads, numKvHeads: kvHeads, hiddenSize } = config.spec;
const s = { b: 2 * config.trainChunkPairs, t: config.seq, heads, kvHeads, headDim: hiddenSize / heads };
let seed = 1;
const rnd = (n: number) => Float32Array.from({ length: n }, () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5);
const q = rnd(s.b * s.t * heads * s.headDim);
const k = rnd(s.b * s.t * kvHeads * s.headDim);
const v = rnd(s.b * s.t * kvHeads * s.headDim);
const dO = rnd(q.length);
const pairs = (s.b * heads * s.t * (s.t + 1)) / 2;
const time = (f: () => void, reps = 10) => {
  for (let i = 0; i < 2; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  return (performance.now() - t0) / reps;
};
const out: Record<string, unknown> = { framework: 'irpo', bench: 'flash-attention-kernel', config: config.name, shape: s };
for (const threads of [1, availableParallelism()]) {
  await flashAttentionWarmUp(threads);
  const f = flashForward(s, q, k, v, null, threads);
  const o = f.o.slice();
  const lse = f.lse.slice();
  const fwd = time(() => flashForward(s, q, k, v, null, threads));
  const bwd = time(() => flashBackward(s, { q, k, v, mask: null, o, lse }, dO, threads));
  out[`threads_${threads}`] = {
    forward_ms: Math.round(fwd * 100) / 100,
    forward_gflops: Math.round(((2 * 2 * pairs * s.headDim) / fwd / 1e6) * 10) / 10,
    backward_ms: Math.round(bwd * 100) / 100,
    backward_gflops: Math.round(((2 * 5 * pairs * s.headDim) / bwd / 1e6) * 10) / 10,
  };
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
