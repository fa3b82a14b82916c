import type { PreferencePair, RefLogps, TrainingConfig, TrainStepMetrics } from '@irpo/contracts';
import { TrainStepMetricsSchema } from '@irpo/contracts';
import { dpoLoss, dpoNll, ipoLoss, tf, type LossOutput, type PairLogps } from '@irpo/core';
import { padIdOf } from '@irpo/model';
import { batchLogProbs } from './batch-logps.js';
import { optimizerSteps } from './batches.js';
import { encodeSequence, packBatch, sequenceLength, type EncodedSequence } from './tokenize.js';
import { inTrainingMode, trainedVariables, withGradientCheckpointing } from './gradient-checkpointing.js';
import { commonLoopOptions, runTrainingLoop, type TrainRunOptions } from './train-loop.js';
import type { Tokenizer, TrainableLM } from './types.js';

export interface PreferenceTrainOptions extends TrainRunOptions<TrainStepMetrics> {
  training: TrainingConfig;
}

/**
 * Trains `model` on preference pairs with DPO+NLL (or DPO, IPO) against precomputed reference
 * log-probs: the reference model is never in memory. Batches of `batchSize` pairs run chosen
 * and rejected through the model in one forward pass.
 */
export async function trainPreference(
  model: TrainableLM,
  tokenizer: Tokenizer,
  pairs: readonly PreferencePair[],
  refLogps: ReadonlyMap<string, RefLogps>,
  o: PreferenceTrainOptions,
): Promise<{ steps: number; last?: TrainStepMetrics }> {
  const t = o.training;
  const encoded = pairs.map((p) => ({
    chosen: encodeSequence(tokenizer, p.prompt, p.chosen, p.chosenEnded ?? true, o.promptFormat),
    rejected: encodeSequence(tokenizer, p.prompt, p.rejected, p.rejectedEnded ?? true, o.promptFormat),
    ref: refOf(refLogps, p.id),
  }));
  const lengths = encoded.map((e) => Math.max(sequenceLength(e.chosen), sequenceLength(e.rejected)));
  const steps = optimizerSteps(lengths, {
    batchSize: t.batchSize,
    gradAccum: t.gradAccum,
    seed: o.seed,
    epochs: o.epochs,
    maxSteps: o.maxSteps,
  });
  const pad = padIdOf(tokenizer);
  return withGradientCheckpointing(model, t.gradientCheckpointing, () =>
    inTrainingMode(model, () =>
      runTrainingLoop<TrainStepMetrics>({
        ...commonLoopOptions(trainedVariables(model), t, steps, o),
        logSchema: TrainStepMetricsSchema,
        microStep: (items) => {
          const rows: EncodedSequence[] = [...items.map((i) => encoded[i]!.chosen), ...items.map((i) => encoded[i]!.rejected)];
          const b = packBatch(rows, pad);
          const n = items.length;
          const logps = batchLogProbs(model, b); // [2n]
          const [policyChosen, policyRejected] = tf.split(logps, [n, n]) as [tf.Tensor1D, tf.Tensor1D];
          const l: PairLogps = {
            policyChosen,
            policyRejected,
            refChosen: tf.tensor1d(items.map((i) => encoded[i]!.ref.chosen)),
            refRejected: tf.tensor1d(items.map((i) => encoded[i]!.ref.rejected)),
          };
          const out = objective(l, tf.tensor1d(b.responseLengths.slice(0, n)), t);
          // Metrics are scalars made inside the gradient scope: keep them to read after the step.
          const kept = Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, tf.keep(v)]));
          return {
            loss: tf.mean(out.losses) as tf.Scalar,
            tokens: b.responseLengths.reduce((a, x) => a + x, 0),
            metrics: () => {
              const values: Record<string, number> = {};
              for (const [k, v] of Object.entries(kept)) {
                values[k] = v.dataSync()[0]!;
                v.dispose();
              }
              return values;
            },
          };
        },
        record: (step, m, extra) => ({
          v: 1,
          step,
          epoch: (step / steps.length) * o.epochs,
          loss: extra.loss,
          dpo: m['loss/dpo'] ?? extra.loss,
          nll: m.nll ?? 0,
          'rewards/chosen': m['rewards/chosen'] ?? 0,
          'rewards/rejected': m['rewards/rejected'] ?? 0,
          'rewards/margins': m['rewards/margins'] ?? 0,
          'rewards/accuracies': m['rewards/accuracies'] ?? 0,
          'logps/chosen': m['logps/chosen'] ?? 0,
          'logps/rejected': m['logps/rejected'] ?? 0,
          grad_norm: extra.gradNorm,
          lr: extra.lr,
          tokens_per_s: extra.tokensPerS,
        }),
      }),
    ),
  );
}

function refOf(ref: ReadonlyMap<string, RefLogps>, id: string): RefLogps {
  const r = ref.get(id);
  if (!r) throw new Error(`no reference log-probs for pair ${id}: ref-logps.jsonl is incomplete; delete it to recompute`);
  return r;
}

/**
 * The configured loss: DPO+NLL (paper), plain DPO (alpha ignored: the ablation), or IPO; the
 * latter two get an nll metric too, so logs compare across losses.
 */
function objective(l: PairLogps, chosenLengths: tf.Tensor1D, t: TrainingConfig): LossOutput {
  if (t.loss === 'dpo-nll') {
    return dpoNll(l, chosenLengths, { beta: t.beta, alpha: t.alpha, labelSmoothing: t.labelSmoothing, normalization: t.nllNormalization });
  }
  const out = t.loss === 'ipo' ? ipoLoss(l, { beta: t.beta }) : dpoLoss(l, { beta: t.beta, labelSmoothing: t.labelSmoothing });
  const extra = tf.tidy(() => ({
    nll: tf.mean(tf.div(tf.neg(l.policyChosen), chosenLengths)) as tf.Scalar,
    'loss/dpo': tf.mean(out.losses) as tf.Scalar,
  }));
  return { losses: out.losses, metrics: { ...out.metrics, ...extra } };
}
