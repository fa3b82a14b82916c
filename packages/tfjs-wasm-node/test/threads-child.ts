// Child process of wasm-threads.test.ts: the wasm binary and its pool are chosen once per
// process, so each thread count gets its own process (`threads-child.ts <threads>`). Prints one JSON line.
import '@tensorflow/tfjs'; // every op's gradient
import * as tf from '@tensorflow/tfjs-core';
import { setupWasmBackend, wasmThreads } from '../src/index.js';

const setup = await setupWasmBackend({ threads: Number(process.argv[2]) });
const rows = 300,
  inner = 257,
  cols = 129;
const a = tf.tensor2d(
  Float32Array.from({ length: rows * inner }, (_, i) => Math.sin(i * 0.37)),
  [rows, inner],
);
const b = tf.tensor2d(
  Float32Array.from({ length: inner * cols }, (_, i) => Math.cos(i * 0.11)),
  [inner, cols],
);
// A value and a gradient through XNNPACK's matmuls (forward, and both operand gradients).
const f = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D)));
const [ga, gb] = tf.grads(f)([a, b]);
// Small ops run without the pool: a small product, a small elementwise op.
const small = tf.sigmoid(tf.matMul(tf.slice(a, [0, 0], [6, 257]), tf.slice(b, [0, 0], [257, 5])));
const bits = (t: tf.Tensor) => Buffer.from(new Float32Array(t.dataSync()).buffer).toString('base64');
// Grow the heap well past its start (16 MiB) and read the result back through the backend.
const n = 64 * 1024 * 1024;
const big = tf.add(tf.fill([n], 1.5), tf.oneHot(tf.scalar(n - 1, 'int32'), n));
const bigData = big.dataSync();
const bigTail = [bigData[0], bigData[n - 2], bigData[n - 1], tf.max(big).dataSync()[0]];
console.log(
  JSON.stringify({
    threads: wasmThreads(),
    setup,
    value: f(a, b).dataSync()[0],
    ga: bits(ga!),
    gb: bits(gb!),
    small: bits(small),
    bigTail,
  }),
);
