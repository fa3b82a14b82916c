import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../test/close.js';
import { initBackend } from '../runtime.js';
import { tf } from '../index.js';
import { AdamW, defaultNoDecay } from './adamw.js';
import { clipByGlobalNorm } from './clip-by-global-norm.js';
import { lrSchedule } from './lr-schedule.js';

interface AdamwFixture {
  config: {
    lr: number;
    weightDecay: number;
    beta1: number;
    beta2: number;
    eps: number;
    warmupSteps: number;
    totalSteps: number;
    maxNorm: number;
  };
  init: Record<string, number[]>;
  steps: { grads: Record<string, number[]>; norm: number; lr: number }[];
  final: Record<string, number[]>;
  state: Record<string, { exp_avg: number[]; exp_avg_sq: number[] }>;
}
// torch.optim.AdamW + clip_grad_norm_ + warm-up/cosine LambdaLR: tools/fixtures/core_adamw.py.
const fx = JSON.parse(readFileSync(new URL('../../test/fixtures/core-adamw.json', import.meta.url), 'utf8')) as AdamwFixture;

beforeAll(async () => {
  await initBackend('cpu');
});

const makeParams = () =>
  new Map(Object.entries(fx.init).map(([k, v]) => [k, tf.variable(tf.tensor(v), true, `adamw-test-${k}-${Math.random()}`)]));

describe('AdamW', () => {
  it('exempts norms and biases from decay by Hugging Face name', () => {
    for (const n of [
      'model.layers.0.input_layernorm.weight',
      'model.layers.3.post_attention_layernorm.weight',
      'model.norm.weight',
      'model.layers.0.self_attn.q_proj.bias',
    ])
      expect(defaultNoDecay(n)).toBe(true);
    for (const n of ['model.embed_tokens.weight', 'lm_head.weight', 'model.layers.0.self_attn.q_proj.weight'])
      expect(defaultNoDecay(n)).toBe(false);
  });

  // Both places the moments can live: host arrays with a fused update, and tfjs variables.
  for (const moments of ['host', 'tensor'] as const) {
    describe(`moments on the ${moments}`, () => {
      it('one hand-computed step: bias correction makes the first update lr·sign(g), decay is decoupled', async () => {
        // t = 1: m = (1−β1)g, v = (1−β2)g², m̂ = g, v̂ = g², so the update is lr·g/(|g| + ε) ≈ lr·sign(g).
        // p = 1, g = 0.5, lr = 0.1, wd = 0.1: p ← 1·(1 − 0.01) − 0.1·0.5/(0.5 + 1e-8) = 0.89 (exact to 1e-8).
        // The norm weight is not decayed: 1 − 0.1 = 0.9; g = −2 on the bias: 1 + 0.1 = 1.1.
        const params = new Map([
          ['model.layers.0.mlp.up_proj.weight', tf.variable(tf.tensor1d([1]))],
          ['model.norm.weight', tf.variable(tf.tensor1d([1]))],
          ['model.layers.0.self_attn.q_proj.bias', tf.variable(tf.tensor1d([1]))],
        ]);
        const grads = {
          'model.layers.0.mlp.up_proj.weight': tf.tensor1d([0.5]),
          'model.norm.weight': tf.tensor1d([0.5]),
          'model.layers.0.self_attn.q_proj.bias': tf.tensor1d([-2]),
        };
        const opt = new AdamW({ lr: 0.1, weightDecay: 0.1, moments });
        opt.applyGradients(params, grads);
        expectClose(await params.get('model.layers.0.mlp.up_proj.weight')!.data(), [0.89], 1e-6);
        expectClose(await params.get('model.norm.weight')!.data(), [0.9], 1e-6);
        expectClose(await params.get('model.layers.0.self_attn.q_proj.bias')!.data(), [1.1], 1e-6);
        expect(opt.step).toBe(1);
      });

      it('matches torch.optim.AdamW with clipping and a warm-up + cosine schedule over 6 steps', async () => {
        const c = fx.config;
        const params = makeParams();
        const opt = new AdamW({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, moments });
        const schedule = lrSchedule({ kind: 'cosine', peakLr: c.lr, warmupSteps: c.warmupSteps, totalSteps: c.totalSteps });
        for (const [i, s] of fx.steps.entries()) {
          const raw = Object.fromEntries(Object.entries(s.grads).map(([k, v]) => [k, tf.tensor(v)]));
          const { grads, norm } = clipByGlobalNorm(raw, c.maxNorm);
          expectClose(await norm.data(), s.norm, 1e-5, `norm ${i}`);
          expectClose(schedule(i), s.lr, 1e-12, `lr ${i}`);
          opt.applyGradients(params, grads, schedule(i));
        }
        for (const [k, v] of Object.entries(fx.final)) expectClose(await params.get(k)!.data(), v, 1e-5, k);
        const state = opt.getState();
        expect(state.step).toBe(6);
        for (const [k, s] of Object.entries(fx.state)) {
          expectClose(await state.tensors[`${k}.exp_avg`]!.data(), s.exp_avg, 1e-5, `${k}.exp_avg`);
          expectClose(await state.tensors[`${k}.exp_avg_sq`]!.data(), s.exp_avg_sq, 1e-5, `${k}.exp_avg_sq`);
        }
      });

      it('resumes from getState()/setState() exactly where it left off', async () => {
        const c = fx.config;
        const schedule = lrSchedule({ kind: 'cosine', peakLr: c.lr, warmupSteps: c.warmupSteps, totalSteps: c.totalSteps });
        const params = makeParams();
        let opt = new AdamW({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, moments });
        for (const [i, s] of fx.steps.entries()) {
          if (i === 3) {
            const state = opt.getState(); // checkpoint, then a fresh optimiser (a restarted process)
            opt.dispose();
            opt = new AdamW({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay, moments });
            opt.setState(state);
            Object.values(state.tensors).forEach((t) => t.dispose());
          }
          const raw = Object.fromEntries(Object.entries(s.grads).map(([k, v]) => [k, tf.tensor(v)]));
          opt.applyGradients(params, clipByGlobalNorm(raw, c.maxNorm).grads, schedule(opt.step));
        }
        for (const [k, v] of Object.entries(fx.final)) expectClose(await params.get(k)!.data(), v, 1e-5, k);
      });

      it('holds the tensor count constant across 100 steps', () => {
        const params = makeParams();
        const opt = new AdamW({ lr: 1e-3, moments });
        const grads = Object.fromEntries([...params].map(([k, p]) => [k, tf.onesLike(p)]));
        const schedule = lrSchedule({ kind: 'linear', peakLr: 1e-3, warmupSteps: 10, totalSteps: 100 });
        const step = () => {
          const clipped = clipByGlobalNorm(grads, 1);
          opt.applyGradients(params, clipped.grads, schedule(opt.step));
          tf.dispose(clipped);
        };
        step(); // the first step creates the moments
        const before = tf.memory().numTensors;
        for (let i = 0; i < 100; i++) step();
        expect(tf.memory().numTensors).toBe(before);
      });
    });
  }
});
