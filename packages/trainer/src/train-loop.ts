import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createLogger, JsonlAppender, readJsonlAll, writeJsonlAtomic } from '@irpo/contracts';
import { clipByGlobalNorm, GradientAccumulator, setWeightCaching, tf } from '@irpo/core';
import type { PromptFormat } from '@irpo/model';
import type { z } from 'zod';
import type { Optimizer } from './optimizer.js';
import { readResumeCheckpoint, writeResumeCheckpoint } from './resume-checkpoint.js';
import { scheduleFor } from './schedule.js';

const log = createLogger('trainer');

/** One micro-batch's loss (a scalar tensor) and its metrics, given as plain numbers. */
export interface MicroStep {
  loss: tf.Scalar;
  /** Tokens the micro-batch trained on, for tokens/s. */
  tokens: number;
  /** Numbers to average over the optimiser step and log (read after the step). */
  metrics: () => Record<string, number>;
}

export interface LoopOptions<M> {
  variables: Map<string, tf.Variable>;
  optimizer: Optimizer;
  /** Micro-batches of each optimiser step, in order. */
  steps: number[][][];
  /** Builds the loss of one micro-batch (called inside the gradient scope). */
  microStep: (items: number[]) => MicroStep;
  /** Learning rate at optimiser step `step` (0-based). */
  lr: (step: number) => number;
  maxGradNorm: number;
  /** Folder of the resume checkpoint (weights, optimiser state, step) a rerun continues from. */
  checkpointDir: string;
  /** Optimiser steps between resume checkpoints. */
  checkpointEvery: number;
  /** train-log.jsonl: one record per step, made by `record`. */
  logFile: string;
  logSchema: z.ZodType<M>;
  record: (step: number, averaged: Record<string, number>, extra: { lr: number; gradNorm: number; tokensPerS: number; loss: number }) => M;
  onStep?: (record: M, step: number, total: number) => void | Promise<void>;
}

/** What a caller gives either trainer besides the data: schedule length, files, optimiser. */
export interface TrainRunOptions<M> {
  epochs: number;
  maxSteps: number | null;
  seed: number;
  logFile: string;
  /** Folder of the resume checkpoint (see resume-checkpoint.ts); the caller removes it when done. */
  checkpointDir: string;
  optimizer: Optimizer;
  onStep?: (m: M, step: number, total: number) => void | Promise<void>;
  /** How prompts are rendered and encoded (default plain); the reference log-probs must have used the same. */
  promptFormat?: PromptFormat;
}

/** The loop settings both trainers take from a training config and their own options. */
export function commonLoopOptions<M>(
  variables: Map<string, tf.Variable>,
  t: { lr: number; schedule: 'constant' | 'cosine' | 'linear'; warmupSteps: number; maxGradNorm: number; checkpointEvery: number },
  steps: number[][][],
  o: { optimizer: Optimizer; checkpointDir: string; logFile: string; onStep?: LoopOptions<M>['onStep'] },
): Pick<
  LoopOptions<M>,
  'variables' | 'optimizer' | 'steps' | 'lr' | 'maxGradNorm' | 'checkpointDir' | 'checkpointEvery' | 'logFile' | 'onStep'
> {
  return {
    variables,
    optimizer: o.optimizer,
    steps,
    lr: scheduleFor(t, steps.length),
    maxGradNorm: t.maxGradNorm,
    checkpointDir: o.checkpointDir,
    checkpointEvery: t.checkpointEvery,
    logFile: o.logFile,
    onStep: o.onStep,
  };
}

export class NonFiniteLossError extends Error {
  override readonly name = 'NonFiniteLossError';
}

/**
 * The loop both the preference and SFT trainers run: gradient accumulation, global-norm clip,
 * learning-rate schedule, a per-step log, and a resume checkpoint every `checkpointEvery` steps
 * that a rerun continues from (weights, optimiser state, step; the log is cut back to it).
 * A non-finite loss stops the run before the update, leaving the last good resume checkpoint.
 */
export async function runTrainingLoop<M>(o: LoopOptions<M>): Promise<{ steps: number; last?: M }> {
  // Weights change every step: per-weight kernel caches would only hold extra model copies.
  const caching = setWeightCaching(false);
  try {
    return await trainingLoop(o);
  } finally {
    setWeightCaching(caching);
  }
}

async function trainingLoop<M>(o: LoopOptions<M>): Promise<{ steps: number; last?: M }> {
  const start = await resume(o);
  const appender = await JsonlAppender.open(o.logFile);
  let last: M | undefined;
  try {
    for (let step = start; step < o.steps.length; step++) {
      const t0 = performance.now();
      const micro = o.steps[step]!;
      let lr = 0;
      let norm = 0;
      const accumulator = new GradientAccumulator();
      const sums: Record<string, number> = {};
      let lossSum = 0;
      let tokens = 0;
      try {
        for (const items of micro) {
          let metrics: (() => Record<string, number>) | undefined;
          const { value, grads } = tf.variableGrads(() => {
            const m = o.microStep(items);
            metrics = m.metrics;
            tokens += m.tokens;
            return m.loss;
          }, [...o.variables.values()]);
          const loss = (await value.data())[0]!;
          value.dispose();
          const values = metrics ? metrics() : {};
          if (!Number.isFinite(loss)) {
            tf.dispose(grads);
            const details = Object.entries(values)
              .map(([k, v]) => `${k}=${v}`)
              .join(', ');
            throw new NonFiniteLossError(
              `loss became ${loss} at step ${step + 1}${details ? ` (${details})` : ''}; training stopped before the update. ` +
                `The last good resume checkpoint is in ${o.checkpointDir}. Lower the learning rate (training.lr) or check the data.`,
            );
          }
          lossSum += loss;
          for (const [k, v] of Object.entries(values)) sums[k] = (sums[k] ?? 0) + v;
          accumulator.add(byParamName(o.variables, grads));
          tf.dispose(grads);
        }
        const mean = accumulator.mean();
        let grads = mean;
        let gradNorm = Number.NaN;
        if (o.maxGradNorm > 0) {
          const clipped = clipByGlobalNorm(mean, o.maxGradNorm);
          gradNorm = (await clipped.norm.data())[0]!;
          clipped.norm.dispose();
          tf.dispose(Object.values(mean));
          grads = clipped.grads;
        } else {
          gradNorm = globalNorm(mean);
        }
        lr = o.lr(step);
        o.optimizer.applyGradients(o.variables, grads, lr);
        tf.dispose(Object.values(grads));
        norm = gradNorm;
      } finally {
        accumulator.reset();
      }
      const seconds = (performance.now() - t0) / 1000;
      const mean: Record<string, number> = {};
      for (const [k, v] of Object.entries(sums)) mean[k] = v / micro.length;
      last = o.record(step + 1, mean, { lr, gradNorm: norm, tokensPerS: tokens / Math.max(seconds, 1e-9), loss: lossSum / micro.length });
      await appender.append(last);
      await o.onStep?.(last, step + 1, o.steps.length);
      if ((step + 1) % o.checkpointEvery === 0 && step + 1 < o.steps.length) {
        await appender.sync();
        await writeResumeCheckpoint(o.checkpointDir, step + 1, o.variables, o.optimizer);
      }
    }
  } finally {
    await appender.close();
  }
  return { steps: o.steps.length, last };
}

/** The step to start at: 0, or the resume checkpoint's, with the log cut back to it. */
async function resume<M>(o: LoopOptions<M>): Promise<number> {
  const checkpoint = await readResumeCheckpoint(o.checkpointDir, o.variables, o.optimizer);
  if (!checkpoint) {
    // A fresh start: a log from an attempt that never reached a resume checkpoint is stale.
    if (existsSync(o.logFile)) await rm(o.logFile);
    return 0;
  }
  if (existsSync(o.logFile)) {
    const rows = (await readJsonlAll(o.logFile, o.logSchema, { tolerateTruncatedTail: true })) as Array<M & { step: number }>;
    await writeJsonlAtomic(
      o.logFile,
      rows.filter((r) => r.step <= checkpoint.step),
    );
  }
  log.info(`resuming training at step ${checkpoint.step + 1} of ${o.steps.length} from ${checkpoint.snapshot}`);
  return checkpoint.step;
}

/** variableGrads keys gradients by tf variable name; the optimiser wants parameter names. */
function byParamName(variables: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  for (const [name, v] of variables) {
    const g = grads[v.name];
    if (g) out[name] = g;
  }
  return out;
}

function globalNorm(grads: Record<string, tf.Tensor>): number {
  return tf.tidy(() => {
    const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
    return sq.length ? tf.sqrt(tf.addN(sq)).dataSync()[0]! : 0;
  });
}
