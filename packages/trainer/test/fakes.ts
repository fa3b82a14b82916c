import { RunConfigSchema, type ModelSpec, type TrainingConfig } from '@irpo/contracts';
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
