import { RunConfigSchema, type ModelSpec, type PreferencePair, type RefLogps, type TrainingConfig } from '@irpo/contracts';
import { tf } from '@irpo/core';
import { CharTokenizer } from '@irpo/model';
import type { Optimizer } from '../src/optimizer.js';
import type { Tokenizer, TrainableLM } from '../src/types.js';

/** @irpo/model's CharTokenizer over a–z and space: 0 pad, 1 bos, 2 eos, then a–z → 3..28, space → 29. */
export const charTokenizer: Tokenizer = new CharTokenizer('abcdefghijklmnopqrstuvwxyz ');

/** A bigram language model: logits at t are a learned row of the token at t. */
export function bigramModel(seed = 1): TrainableLM & { dispose(): void } {
  const V = 30;
  const w = tf.variable(tf.randomNormal([V, V], 0, 0.1, 'float32', seed), true, `bigram${seed}_${Math.random()}`);
  const spec = { vocabSize: V } as unknown as ModelSpec;
  return {
    spec,
    variables: new Map([['lm.weight', w]]),
    forward: (ids) => tf.gather(w, ids) as tf.Tensor3D, // [B,T,V]
    dispose: () => w.dispose(),
  };
}

/** Plain SGD with a step counter, enough to exercise the loop. */
export function sgd(): Optimizer {
  let step = 0;
  return {
    applyGradients(variables, grads, lr) {
      for (const [name, g] of Object.entries(grads)) {
        const v = variables.get(name)!;
        tf.tidy(() => v.assign(tf.sub(v, tf.mul(g, lr))));
      }
      step++;
    },
    getState: () => ({ step, tensors: {} }),
    setState: (s) => {
      step = s.step;
    },
    dispose: () => undefined,
  };
}

export function trainingConfig(over: Partial<TrainingConfig> = {}): TrainingConfig {
  return { ...RunConfigSchema.parse({}).training, ...over };
}

/**
 * Eight pairs of one prompt; `alternate` swaps between two chosen/rejected spellings so batches
 * differ, else every pair is ("one", "two").
 */
export function toyPairs(alternate = true): PreferencePair[] {
  return Array.from({ length: 8 }, (_, i) => ({
    v: 1,
    id: `p${i}`,
    problemId: `q${i}`,
    prompt: 'what is one',
    chosen: alternate && i % 2 === 0 ? 'uno' : 'one',
    rejected: alternate && i % 2 === 0 ? 'dos' : 'two',
    chosenSource: 'sample',
  }));
}

/** Reference log-probs of -10 for both sides of every pair (4 tokens each). */
export function flatRef(pairs: readonly PreferencePair[]): Map<string, RefLogps> {
  return new Map(pairs.map((p) => [p.id, { v: 1, pairId: p.id, chosen: -10, rejected: -10, chosenTokens: 4, rejectedTokens: 4 }]));
}
