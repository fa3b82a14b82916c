import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../test/close.js';
import { tf, useCpu, useWasm } from '../../test/backends.js';
import { asBlockSwap } from './fast-transpose.js';
import { setWeightCaching } from './batch-mat-mul.js';

/** Runs f on a backend and returns its outputs as plain arrays (inputs are re-created there). */
async function on(backend: 'cpu' | 'wasm', f: () => tf.Tensor[]): Promise<number[][]> {
  await tf.setBackend(backend);
  const outs = tf.tidy(f);
  const values = await Promise.all(outs.map(async (t) => Array.from(await t.data())));
  tf.dispose(outs);
  return values;
}

/** Deterministic pseudo-random values (same on both backends). */
function rand(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v[i] = (s / 2147483648) * 2 - 1;
  }
  return tf.tensor(v, shape);
}

async function expectSame(f: () => tf.Tensor[], tol = 1e-5): Promise<void> {
  const cpu = await on('cpu', f);
  const wasm = await on('wasm', f);
  cpu.forEach((c, i) => expectClose(wasm[i]!, c, tol, `output ${i}`));
}

beforeAll(async () => {
  const setup = await useWasm();
  expect(setup.kernels.join(' ')).toContain('UnsortedSegmentSum');
  await useCpu();
});

describe('the kernels on wasm match the cpu backend', () => {
  it('UnsortedSegmentSum, and the embedding (gather) gradient that needs it', async () => {
    const ids = [3, 0, 3, 7, 1, 3, -1, 9]; // repeats, an out-of-range id and a negative one are dropped
    await expectSame(() => [tf.unsortedSegmentSum(rand([8, 5], 1), tf.tensor1d(ids, 'int32'), 8)]);
    await expectSame(() => {
      const table = rand([11, 6], 2);
      const idx = tf.tensor2d(
        [
          [1, 4, 4],
          [10, 0, 4],
        ],
        undefined,
        'int32',
      );
      const w = rand([2, 3, 6], 3);
      return [tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), w)))(table)];
    });
  });

  for (const [tA, tB] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    for (const [sa, sb] of [
      [
        [7, 13],
        [13, 5],
      ],
      [
        [3, 7, 13],
        [13, 5],
      ],
      [
        [3, 7, 13],
        [3, 13, 5],
      ],
      [
        [2, 3, 7, 13],
        [2, 3, 13, 5],
      ],
      [
        [7, 13],
        [4, 13, 5],
      ],
      [
        [2, 6, 1, 9],
        [2, 6, 9, 5],
      ],
    ]) {
      it(`BatchMatMul [${sa}]·[${sb}] transposeA=${tA} transposeB=${tB}, values and gradients`, async () => {
        const shapeA = tA ? [...sa.slice(0, -2), sa[sa.length - 1]!, sa[sa.length - 2]!] : sa;
        const shapeB = tB ? [...sb.slice(0, -2), sb[sb.length - 1]!, sb[sb.length - 2]!] : sb;
        await expectSame(() => {
          const a = rand(shapeA, 4);
          const b = rand(shapeB, 5);
          const f = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, tA, tB);
          const y = f(a, b);
          // tfjs's own BatchMatMul gradient mis-shapes broadcast operands (on every backend), so
          // gradients are compared where both operands have the same rank.
          if (shapeA.length !== shapeB.length) return [y];
          const dy = rand(y.shape, 6);
          const [ga, gb] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(f(x, z), dy)))([a, b]);
          return [y, ga!, gb!];
        });
      });
    }
  }

  it('Transpose: matrix-like permutations exactly as the cpu backend, float32 and int32', async () => {
    const cases: [number[], number[]][] = [
      [
        [37, 19],
        [1, 0],
      ],
      [
        [3, 17, 9],
        [0, 2, 1],
      ],
      [
        [4, 5, 6],
        [1, 2, 0],
      ],
      [
        [4, 5, 6],
        [2, 0, 1],
      ],
      [
        [3, 4, 5, 6],
        [0, 2, 1, 3],
      ],
      [
        [2, 3, 4],
        [2, 1, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      await expectSame(() => [tf.transpose(rand(shape, 11), perm), tf.transpose(tf.cast(tf.mul(rand(shape, 12), 1000), 'int32'), perm)], 0);
    }
  });

  it('Transpose: which permutations are one swap of two axis groups', () => {
    expect(asBlockSwap([2, 3, 4, 5], [0, 2, 1, 3])).toEqual({ outer: 2, rows: 3, cols: 4, inner: 5 });
    expect(asBlockSwap([4, 5, 6], [1, 2, 0])).toEqual({ outer: 1, rows: 4, cols: 30, inner: 1 });
    expect(asBlockSwap([4, 5, 6], [2, 0, 1])).toEqual({ outer: 1, rows: 20, cols: 6, inner: 1 });
    expect(asBlockSwap([4, 5], [0, 1])).toBeNull();
    expect(asBlockSwap([2, 3, 4], [2, 1, 0])).toBeNull();
  });

  it('Sum over leading axes (and others, through the stock kernel), with keepDims', async () => {
    await expectSame(() => {
      const x = rand([6, 7], 13);
      const y = rand([3, 4, 5], 14);
      return [tf.sum(x, 0), tf.sum(x, -2, true), tf.sum(y, [1, 0]), tf.sum(y, [0, 1], true), tf.sum(y, 1), tf.sum(y), tf.sum(y, 2)];
    });
    // Hand-checked: column sums of [[1, 2], [3, 4], [5, 6]].
    await useWasm();
    expect(
      Array.from(
        await tf
          .sum(
            tf.tensor2d([
              [1, 2],
              [3, 4],
              [5, 6],
            ]),
            0,
          )
          .data(),
      ),
    ).toEqual([9, 12]);
    await useCpu();
  });

  it('GatherV2 along axis 0: float and int tables, 1-D and 2-D indices; an index off the table throws', async () => {
    await expectSame(() => {
      const table = rand([11, 6], 15);
      const ints = tf.cast(tf.mul(rand([9, 2, 3], 16), 100), 'int32');
      const idx = tf.tensor2d(
        [
          [1, 4, 4],
          [10, 0, 4],
        ],
        undefined,
        'int32',
      );
      return [
        tf.gather(table, idx),
        tf.gather(ints, tf.tensor1d([8, 0, 3], 'int32')),
        tf.gather(tf.range(0, 5), tf.tensor1d([4, 4, 1], 'int32')),
        tf.gather(table, tf.tensor1d([2, 3], 'int32'), 1),
      ];
    });
    await useWasm();
    expect(() => tf.gather(tf.ones([3, 2]), tf.tensor1d([0, 3], 'int32'))).toThrow('GatherV2: the index value 3 is not in [0, 2]');
    await useCpu();
  });

  it('with weight caching off (training), x·Wᵀ and x·W give the same values and keep no copies of W', async () => {
    await useWasm();
    const w = rand([12, 20], 17);
    const x = rand([9, 20], 18);
    const y = rand([9, 12], 19);
    const cached = [tf.matMul(x, w, false, true), tf.matMul(y, w)];
    const want = await Promise.all(cached.map((t) => t.data()));
    tf.dispose(cached);
    const was = setWeightCaching(false);
    try {
      const buffers = tf.engine().backend.numDataIds();
      const fresh = [tf.matMul(x, w, false, true), tf.matMul(y, w)];
      expect(tf.engine().backend.numDataIds()).toBe(buffers + 2); // the outputs only
      const got = await Promise.all(fresh.map((t) => t.data()));
      got.forEach((g, i) => expectClose(Array.from(g), Array.from(want[i]!), 0, `product ${i}`));
      tf.dispose(fresh);
    } finally {
      setWeightCaching(was);
    }
    tf.dispose([w, x, y]);
    await useCpu();
  });

  it('zero gradients through comparisons', async () => {
    await expectSame(() => {
      const x = rand([4, 3], 7);
      // d/dx Σ where(x > 0, x², −x) = 2x or −1; the comparison contributes zeros.
      return [tf.grad((v: tf.Tensor) => tf.sum(tf.where(tf.greater(v, 0), tf.square(v), tf.neg(v))))(x)];
    });
    await useCpu();
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.cast(tf.less(v, 0.5), 'float32'), v)))(tf.tensor1d([0, 1]));
    expect(Array.from(await g.data())).toEqual([1, 0]);
  });

  it('x·Wᵀ with a reused weight, then a new weight in its place (transposed copies by data id)', async () => {
    await expectSame(() => {
      const x = rand([6, 13], 12);
      const w1 = rand([5, 13], 13);
      const first = tf.matMul(x, w1, false, true); // fills the cache
      const again = tf.matMul(x, w1, false, true); // served from it
      w1.dispose();
      const w2 = rand([5, 13], 14); // may reuse w1's heap bytes: must not see w1's copy
      const second = tf.matMul(x, w2, false, true);
      const v = tf.variable(rand([5, 13], 15));
      const beforeAssign = tf.matMul(x, v, false, true);
      v.assign(rand([5, 13], 16)); // a variable's new value has a new data id
      const afterAssign = tf.matMul(x, v, false, true);
      v.dispose();
      return [first, again, second, beforeAssign, afterAssign];
    });
  });

  it('frees the transposed copy of a weight once the weight is disposed', async () => {
    await useWasm();
    const x = rand([4, 13], 17);
    const w0 = rand([5, 13], 18);
    tf.matMul(x, w0, false, true).dispose();
    w0.dispose(); // its transposed copy stays until the next insertion sweeps it
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) {
      const w = rand([5, 13], 19 + i);
      tf.matMul(x, w, false, true).dispose();
      w.dispose();
    }
    // Each new copy sweeps those of disposed weights: only the last weight's copy remains.
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    x.dispose();
    await useCpu();
  });

  it('leaks no wasm memory in the matmul kernel', async () => {
    await useWasm();
    const a = rand([3, 13, 7], 9);
    const b = rand([3, 5, 13], 10);
    const w = rand([13, 5], 11);
    const run = () => {
      tf.matMul(a, b, true, true).dispose(); // per-entry path
      tf.matMul(a, w, true, false).dispose(); // folded-rows path
    };
    run();
    const tensors = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
    tf.dispose([a, b, w]);
    await useCpu();
  });

  it('Identity and same-dtype Cast share the buffer; a clone outlives its source; other casts convert', async () => {
    await useWasm();
    const x = tf.tensor1d([1.5, -2, 3]);
    const buffers = tf.engine().backend.numDataIds();
    const y = tf.clone(x);
    const z = tf.cast(x, 'float32');
    expect(tf.engine().backend.numDataIds()).toBe(buffers); // no new buffer for either
    x.dispose();
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3]);
    z.dispose();
    expect(Array.from(await y.data())).toEqual([1.5, -2, 3]);
    y.dispose();
    expect(tf.engine().backend.numDataIds()).toBe(buffers - 1); // freed with its last tensor
    const i = tf.tensor1d([1, 2, 3], 'int32');
    const f = tf.cast(i, 'float32');
    expect(f.dtype).toBe('float32');
    expect(Array.from(await f.data())).toEqual([1, 2, 3]);
    tf.dispose([i, f]);
    await useCpu();
  });
});
