import { SftStepMetricsSchema, type SftStepMetrics, type TrainingConfig } from '@irpo/contracts';
import { tf } from '@irpo/core';
import { padIdOf } from '@irpo/model';
import { batchLogProbs } from './batch-logps.js';
import { optimizerSteps } from './batches.js';
import { encodeSequence, packBatch, sequenceLength } from './tokenize.js';
import { inTrainingMode, trainedVariables, withGradientCheckpointing } from './gradient-checkpointing.js';
import { commonLoopOptions, runTrainingLoop, type TrainRunOptions } from './train-loop.js';
import type { Tokenizer, TrainableLM } from './types.js';

export interface SftExample {
  prompt: string;
  completion: string;
  /** False for a completion cut off by the token limit: no EOS is appended. Default true. */
  ended?: boolean;
}

export interface SftOptions extends TrainRunOptions<SftStepMetrics> {
  training: Pick<TrainingConfig, 'lr' | 'schedule' | 'warmupSteps' | 'batchSize' | 'gradAccum' | 'maxGradNorm' | 'checkpointEvery'> & {
    gradientCheckpointing?: boolean;
  };
}

/**
 * Supervised fine-tuning on (prompt, completion): token-mean NLL of the completion tokens (EOS
 * included when the completion ended), never of the prompt. Serves the warm start of M0 on gold solutions and the
 * SFT-on-chosen / STaR baselines.
 */
export async function trainSft(
  model: TrainableLM,
  tokenizer: Tokenizer,
  examples: readonly SftExample[],
  o: SftOptions,
): Promise<{ steps: number; last?: SftStepMetrics }> {
  const t = o.training;
  const encoded = examples.map((e) => encodeSequence(tokenizer, e.prompt, e.completion, e.ended ?? true, o.promptFormat));
  const steps = optimizerSteps(encoded.map(sequenceLength), {
    batchSize: t.batchSize,
    gradAccum: t.gradAccum,
    seed: o.seed,
    epochs: o.epochs,
    maxSteps: o.maxSteps,
  });
  const pad = padIdOf(tokenizer);
  return withGradientCheckpointing(model, t.gradientCheckpointing ?? false, () =>
    inTrainingMode(model, () =>
      runTrainingLoop<SftStepMetrics>({
        ...commonLoopOptions(trainedVariables(model), t, steps, o),
        logSchema: SftStepMetricsSchema,
        microStep: (items) => {
          const b = packBatch(
            items.map((i) => encoded[i]!),
            pad,
          );
          const logps = batchLogProbs(model, b); // [B]
          const tokens = b.responseLengths.reduce((a, x) => a + x, 0);
          const loss = tf.div(tf.neg(tf.sum(logps)), tokens) as tf.Scalar;
          const kept = tf.keep(tf.clone(loss));
          return {
            loss,
            tokens,
            metrics: () => {
              const nll = kept.dataSync()[0]!;
              kept.dispose();
              return { nll };
            },
          };
        },
        record: (step, m, extra) => ({
          v: 1,
          step,
          epoch: (step / steps.length) * o.epochs,
          loss: extra.loss,
          nll: m.nll ?? extra.loss,
          grad_norm: extra.gradNorm,
          lr: extra.lr,
          tokens_per_s: extra.tokensPerS,
        }),
      }),
    ),
  );
}
