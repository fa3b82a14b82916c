import { beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../test/close.js';
import { coreLosses, type PairCase } from '../../test/fixtures.js';
import { initBackend } from '../runtime.js';
import { tf } from '../index.js';
import { dpoLoss, type PairLogps } from './dpo-loss.js';
import { dpoNll, readMetrics } from './dpo-nll.js';
import { ipoLoss } from './ipo-loss.js';
import { nllLoss } from './nll-loss.js';
import { sequenceLogProbs } from './sequence-log-probs.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const t1 = (x: number[]) => tf.tensor1d(x);
const pair = (pc: number[], pr: number[], rc: number[], rr: number[]): PairLogps => ({
  policyChosen: t1(pc),
  policyRejected: t1(pr),
  refChosen: t1(rc),
  refRejected: t1(rr),
});

describe('hand-derived losses', () => {
  it('dpo: zero margin costs ln 2; margin 10 at β=0.1 costs ln(1+e^-1)', async () => {
    // Row 0: policy = reference → h = 0 → −log σ(0) = ln 2 = 0.693147.
    // Row 1: h = (−5 − −8) − (−9 − −2) = 3 + 7 = 10, βh = 1 → −log σ(1) = ln(1 + e^−1) = 0.313262.
    const l = pair([-4, -5], [-6, -9], [-4, -8], [-6, -2]);
    const { losses, metrics } = dpoLoss(l, { beta: 0.1 });
    expectClose(await losses.data(), [Math.LN2, Math.log(1 + Math.exp(-1))], 1e-6);
    const m = await readMetrics(metrics);
    // rewards/chosen = β·mean(0, 3) = 0.15; rewards/rejected = β·mean(0, −7) = −0.35.
    expectClose(m['rewards/chosen']!, 0.15, 1e-6);
    expectClose(m['rewards/rejected']!, -0.35, 1e-6);
    expectClose(m['rewards/margins']!, 0.5, 1e-6);
    expect(m['rewards/accuracies']).toBe(0.5); // row 0 ties (not counted), row 1 wins
    expectClose(m['logps/chosen']!, -4.5, 1e-6);
  });

  it('dpo gradient w.r.t. the policy log-prob is −β·σ(−βh)', async () => {
    // d/dx −log σ(β(x − c)) = −β·(1 − σ(βh)) = −β·σ(−βh); at h = 0 that is −β/2 = −0.05.
    const g = tf.grad((x: tf.Tensor) => tf.sum(dpoLoss({ ...pair([0], [0], [0], [0]), policyChosen: x as tf.Tensor1D }).losses))(t1([0]));
    expectClose(await g.data(), [-0.05], 1e-6);
  });

  it('ipo at zero margin is (1/(2β))² and dpo+nll adds α·nll', async () => {
    // β = 0.1 → (0 − 5)² = 25.
    expectClose(await ipoLoss(pair([-3], [-3], [-3], [-3]), { beta: 0.1 }).losses.data(), [25], 1e-6);
    // nll per sequence: −(−6)/3 = 2; dpo at h = 0: ln 2; α = 0.5 → ln 2 + 1.
    const out = dpoNll(pair([-6], [-5], [-6], [-5]), t1([3]), { alpha: 0.5 });
    expectClose(await out.losses.data(), [Math.LN2 + 1], 1e-6);
    const m = await readMetrics(out.metrics);
    expectClose(m.nll!, 2, 1e-6);
    expectClose(m['loss/dpo']!, Math.LN2, 1e-6);
  });

  it('nll: per-sequence vs token-mean normalisation', async () => {
    // logps [−6, −3], lengths [3, 1]. per-sequence: [6/3, 3/1] = [2, 3], mean 2.5.
    // token-mean: (6 + 3)/(3 + 1) = 2.25, as per-example values −logp/mean(len) = [3, 1.5].
    expectClose(await nllLoss(t1([-6, -3]), t1([3, 1])).losses.data(), [2, 3], 1e-6);
    expectClose(await nllLoss(t1([-6, -3]), t1([3, 1]), { normalization: 'token-mean' }).losses.data(), [3, 1.5], 1e-6);
  });

  it('rejects beta ≤ 0 and label smoothing ≥ 0.5', () => {
    expect(() => dpoLoss(pair([0], [0], [0], [0]), { beta: 0 })).toThrow(/beta/);
    expect(() => dpoLoss(pair([0], [0], [0], [0]), { labelSmoothing: 0.5 })).toThrow(/labelSmoothing/);
  });
});

function policyLogps(c: PairCase, chosen: tf.Tensor, rejected: tf.Tensor) {
  return {
    pc: sequenceLogProbs(chosen as tf.Tensor3D, tf.tensor2d(c.chosenTargets, undefined, 'int32'), tf.tensor2d(c.chosenMask)),
    pr: sequenceLogProbs(rejected as tf.Tensor3D, tf.tensor2d(c.rejectedTargets, undefined, 'int32'), tf.tensor2d(c.rejectedMask)),
  };
}

describe('losses match PyTorch (tools/fixtures/core_losses.py)', () => {
  for (const c of coreLosses.pairs) {
    const lengths = () => tf.sum(tf.tensor2d(c.chosenMask), 1) as tf.Tensor1D;
    const logps = (pc: tf.Tensor1D, pr: tf.Tensor1D): PairLogps => ({
      policyChosen: pc,
      policyRejected: pr,
      refChosen: t1(c.refChosen),
      refRejected: t1(c.refRejected),
    });

    it(`values and metrics: ${c.name}`, async () => {
      const { pc, pr } = policyLogps(c, tf.tensor3d(c.chosenLogits), tf.tensor3d(c.rejectedLogits));
      expectClose(await pc.data(), c.policyChosen, 1e-5, 'policyChosen');
      expectClose(await pr.data(), c.policyRejected, 1e-5, 'policyRejected');
      const l = logps(pc, pr);
      expectClose(await dpoLoss(l, { beta: c.beta, labelSmoothing: c.labelSmoothing }).losses.data(), c.dpo, 1e-5, 'dpo');
      expectClose(await ipoLoss(l, { beta: c.beta }).losses.data(), c.ipo, 1e-5, 'ipo');
      expectClose(await nllLoss(pc, lengths()).losses.data(), c.nllPerSequence, 1e-5, 'nll per-sequence');
      expectClose(
        await tf.mean(nllLoss(pc, lengths(), { normalization: 'token-mean' }).losses).data(),
        c.nllTokenMean,
        1e-5,
        'nll token-mean',
      );
      const m = await readMetrics(dpoNll(l, lengths(), { beta: c.beta, alpha: c.alpha, labelSmoothing: c.labelSmoothing }).metrics);
      for (const [k, v] of Object.entries(c.metrics)) expectClose(m[k]!, v, 1e-5, k);
    });

    for (const key of ['dpoNllPerSequence', 'dpoNllTokenMean', 'ipo'] as const) {
      it(`gradient w.r.t. logits, ${key}: ${c.name}`, async () => {
        const objective = (chosen: tf.Tensor, rejected: tf.Tensor) => {
          const { pc, pr } = policyLogps(c, chosen, rejected);
          const l = logps(pc, pr);
          if (key === 'ipo') return tf.mean(ipoLoss(l, { beta: c.beta }).losses);
          const normalization = key === 'dpoNllPerSequence' ? 'per-sequence' : 'token-mean';
          return tf.mean(dpoNll(l, lengths(), { beta: c.beta, alpha: c.alpha, labelSmoothing: c.labelSmoothing, normalization }).losses);
        };
        const { value, grads } = tf.valueAndGrads(objective)([tf.tensor3d(c.chosenLogits), tf.tensor3d(c.rejectedLogits)]);
        const ref = c.grads[key];
        expectClose(await value.data(), ref.loss, 1e-5, 'loss');
        expectClose(await grads[0]!.data(), ref.chosen, 1e-5, 'd/d chosen logits');
        expectClose(await grads[1]!.data(), ref.rejected, 1e-5, 'd/d rejected logits');
      });
    }
  }
});
