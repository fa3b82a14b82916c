#!/usr/bin/env node
// Forward+backward time of a Llama-shaped layer's matmuls on wasm, with @irpo/tfjs-wasm-node's
// kernels (labelled "core", as in earlier runs) and with the stock ones, in one run. Prints one JSON line per measurement and a summary line.
// Build first (npm ci does), then: node tools/bench/kernels.mjs [--tokens 256] [--reps 3]
// Shapes: SmolLM2-135M (hidden 576, MLP 1536, 9 query / 3 kv heads of 64), weights stored [out, in]
// as in Hugging Face checkpoints, so projections are x·Wᵀ (transposeB) and their gradients
// dY·W and dYᵀ·x: exactly the transposed operands the stock kernel runs slowly.
import * as tf from '@tensorflow/tfjs'; // the union package: every op's gradient
import { setupWasmBackend, useFastMatMul } from '../../packages/tfjs-wasm-node/dist/index.js';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const tokens = arg('tokens', 256);
const reps = arg('reps', 3);
const batch = 2;
const seq = tokens / batch;
const [hidden, mlp, heads, kvHeads, headDim] = [576, 1536, 9, 3, 64];

await setupWasmBackend({ threads: process.env.IRPO_THREADS ? Number(process.env.IRPO_THREADS) : undefined });
const r = (shape) => tf.randomNormal(shape, 0, 0.02);
const W = {
  q: r([heads * headDim, hidden]),
  k: r([kvHeads * headDim, hidden]),
  v: r([kvHeads * headDim, hidden]),
  o: r([hidden, heads * headDim]),
  gate: r([mlp, hidden]),
  up: r([mlp, hidden]),
  down: r([hidden, mlp]),
};
const x = r([tokens, hidden]);
const names = Object.keys(W);

/** The layer's matmuls only (no norms/softmax), so the figure isolates the kernel. */
function layer(xIn, ...ws) {
  const w = Object.fromEntries(names.map((n, i) => [n, ws[i]]));
  const proj = (t, m) => tf.matMul(t, m, false, true);
  const split = (t, h) => tf.transpose(tf.reshape(t, [batch, seq, h, headDim]), [0, 2, 1, 3]); // [B,h,T,d]
  const q = split(proj(xIn, w.q), heads);
  const kvIndex = tf.tensor1d(
    Array.from({ length: heads }, (_, i) => Math.floor(i / (heads / kvHeads))),
    'int32',
  );
  const rep = (t) => tf.gather(t, kvIndex, 1); // grouped-query attention: each kv head serves 3 query heads
  const k = rep(split(proj(xIn, w.k), kvHeads));
  const v = rep(split(proj(xIn, w.v), kvHeads));
  const scores = tf.matMul(q, k, false, true); // [B,H,T,T]
  const attn = tf.matMul(tf.mul(scores, 1 / 8), v); // [B,H,T,d]
  const merged = tf.reshape(tf.transpose(attn, [0, 2, 1, 3]), [tokens, heads * headDim]);
  const h = tf.add(xIn, proj(merged, w.o));
  const mlpOut = proj(tf.mul(proj(h, w.gate), proj(h, w.up)), w.down);
  return tf.sum(tf.add(h, mlpOut));
}

const flops =
  2 * 3 * tokens * hidden * (2 * heads * headDim + 2 * kvHeads * headDim + 3 * mlp) + 2 * 3 * 2 * batch * heads * seq * seq * headDim;
function time(label) {
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads(layer)([x, ...names.map((n) => W[n])]);
      return [value, ...grads];
    });
  tf.dispose(step()); // warm-up (and XNNPACK weight packing)
  const ms = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const outs = step();
    outs.forEach((o) => o.dataSync());
    ms.push(performance.now() - t0);
    tf.dispose(outs);
  }
  const best = Math.min(...ms);
  const line = {
    bench: 'llama-layer-matmuls-fwd-bwd',
    backend: 'wasm',
    kernels: label,
    tokens,
    ms: +best.toFixed(1),
    gflops: +(flops / best / 1e6).toFixed(2),
  };
  console.log(JSON.stringify(line));
  return best;
}

const withCore = time('core');
useFastMatMul(false);
const stock = time('stock');
useFastMatMul(true);
console.log(JSON.stringify({ bench: 'llama-layer-matmuls-fwd-bwd', speedup: +(stock / withCore).toFixed(2) }));
