import { initBackend, tf } from '@irpo/core';
import { beforeAll, expect, it } from 'vitest';
import { rmsNorm } from './rms-norm.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** The reference: tfjs's own chain rule through the textbook formula. */
const composite = (x: tf.Tensor, w: tf.Tensor) => tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-5))), w);

it('RMSNorm: values and both gradients match the composite ops (odd width, uneven scales)', () => {
  const n = 7;
  const h = 13;
  const x = tf.tensor2d(
    Array.from({ length: n * h }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 5))),
    [n, h],
  );
  const w = tf.tensor1d(Array.from({ length: h }, (_, i) => 0.5 + Math.cos(i)));
  const probe = tf.tensor2d(
    Array.from({ length: n * h }, (_, i) => Math.cos(i * 0.11)),
    [n, h],
  ); // loss = Σ probe · y
  const loss = (f: typeof composite) => (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(a, b), probe));
  const close = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!;
  expect(close(rmsNorm(x, w, 1e-5), composite(x, w))).toBeLessThan(1e-6);
  const [dxRef, dwRef] = tf.grads(loss(composite))([x, w]);
  const [dx, dw] = tf.grads(loss((a, b) => rmsNorm(a as tf.Tensor2D, b, 1e-5)))([x, w]);
  expect(close(dx!, dxRef!)).toBeLessThan(1e-6);
  expect(close(dw!, dwRef!)).toBeLessThan(1e-5);
  // Not trivially zero: the gradients carry signal.
  expect(tf.max(tf.abs(dx!)).dataSync()[0]!).toBeGreaterThan(0.01);
});
