import type { PreferencePair, RefLogps, TrainingConfig, TrainStepMetrics } from '@irpo/contracts';
import { TrainStepMetricsSchema } from '@irpo/contracts';
import { tf } from '@irpo/core';
import { epochBatches } from './batches.js';
import { preferenceLoss, sequenceLogProbs } from './objective.js';
import type { Optimizer } from './optimizer.js';
import { learningRate } from './schedule.js';
import { encodeSequence, packBatch, sequenceLength, type EncodedSequence } from './tokenize.js';
import { runTrainingLoop } from './train-loop.js';
import type { Tokenizer, TrainableLM } from './types.js';

export interface PreferenceTrainOptions {
  training: TrainingConfig;
  epochs: number;
  maxSteps: number | null;
  seed: number;
  logFile: string;
  checkpointDir: string;
  optimizer: Optimizer;
  onStep?: (m: TrainStepMetrics, step: number, total: number) => void;
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
    chosen: encodeSequence(tokenizer, p.prompt, p.chosen),
    rejected: encodeSequence(tokenizer, p.prompt, p.rejected),
    ref: refOf(refLogps, p.id),
  }));
  const lengths = encoded.map((e) => Math.max(sequenceLength(e.chosen), sequenceLength(e.rejected)));
  const micro = epochBatches(lengths, t.batchSize, o.seed, o.epochs, o.maxSteps === null ? null : o.maxSteps * t.gradAccum);
  const steps: number[][][] = [];
  for (let i = 0; i < micro.length; i += t.gradAccum) steps.push(micro.slice(i, i + t.gradAccum));
  const pad = tokenizer.padTokenId ?? tokenizer.eosTokenIds[0] ?? 0;
  return runTrainingLoop<TrainStepMetrics>({
    variables: model.variables,
    optimizer: o.optimizer,
    steps,
    lr: (step) => learningRate(t, step, steps.length),
    maxGradNorm: t.maxGradNorm,
    checkpointDir: o.checkpointDir,
    checkpointEvery: t.checkpointEvery,
    logFile: o.logFile,
    logSchema: TrainStepMetricsSchema,
    onStep: o.onStep,
    microStep: (items) => {
      const rows: EncodedSequence[] = [...items.map((i) => encoded[i]!.chosen), ...items.map((i) => encoded[i]!.rejected)];
      const b = packBatch(rows, pad);
      const n = items.length;
      const ids = tf.tensor2d(b.inputIds, [b.batch, b.length], 'int32');
      const attn = tf.tensor2d(b.attentionMask, [b.batch, b.length]);
      const targets = tf.tensor2d(b.targets, [b.batch, b.length], 'int32');
      const mask = tf.tensor2d(b.lossMask, [b.batch, b.length]);
      const logits = model.forward(ids, attn); // [2n, T, V]
      const logps = sequenceLogProbs(logits, targets, mask); // [2n]
      const [pc, pr] = tf.split(logps, [n, n]) as [tf.Tensor1D, tf.Tensor1D];
      const refC = items.map((i) => encoded[i]!.ref.chosen);
      const refR = items.map((i) => encoded[i]!.ref.rejected);
      const out = preferenceLoss({
        policyChosen: pc,
        policyRejected: pr,
        refChosen: tf.tensor1d(refC),
        refRejected: tf.tensor1d(refR),
        chosenLengths: tf.tensor1d(b.responseLengths.slice(0, n)),
        beta: t.beta,
        alpha: t.alpha,
        labelSmoothing: t.labelSmoothing,
        kind: t.loss,
      });
      const keep = tf.keep(tf.stack([pc, pr, out.dpo, out.nll])); // [4, n]: read after the step
      return {
        loss: tf.mean(out.loss) as tf.Scalar,
        tokens: b.responseLengths.reduce((a, x) => a + x, 0),
        metrics: () => {
          const v = keep.arraySync() as number[][];
          keep.dispose();
          const [cs, rs, dpo, nll] = v as [number[], number[], number[], number[]];
          const rc = cs.map((x, i) => t.beta * (x - refC[i]!));
          const rr = rs.map((x, i) => t.beta * (x - refR[i]!));
          return {
            dpo: mean(dpo),
            nll: mean(nll),
            'rewards/chosen': mean(rc),
            'rewards/rejected': mean(rr),
            'rewards/margins': mean(rc.map((x, i) => x - rr[i]!)),
            'rewards/accuracies': mean(rc.map((x, i) => (x > rr[i]! ? 1 : 0))),
            'logps/chosen': mean(cs),
            'logps/rejected': mean(rs),
          };
        },
      };
    },
    record: (step, m, extra) => ({
      v: 1,
      step,
      epoch: (step / steps.length) * o.epochs,
      loss: extra.loss,
      dpo: m.dpo ?? 0,
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
  });
}

function refOf(ref: ReadonlyMap<string, RefLogps>, id: string): RefLogps {
  const r = ref.get(id);
  if (!r) throw new Error(`no reference log-probs for pair ${id}: ref-logps.jsonl is incomplete; delete it to recompute`);
  return r;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : 0;
}
