import { RunConfigSchema, type ModelSpec, type TrainingConfig } from '@irpo/contracts';
import { tf } from '@irpo/core';
import type { Optimizer } from '../src/optimizer.js';
import type { Tokenizer, TrainableLM } from '../src/types.js';

/** Characters a–z and space map to 3..29; 0 pad, 1 bos, 2 eos. */
export const charTokenizer: Tokenizer = {
  encode: (text, o) => [...(o?.addSpecialTokens ? [1] : []), ...[...text].map((c) => (c === ' ' ? 29 : c.charCodeAt(0) - 94))],
  decode: (ids) => ids.map((i) => (i === 29 ? ' ' : String.fromCharCode(i + 94))).join(''),
  vocabSize: 30,
  bosTokenId: 1,
  eosTokenIds: [2],
  padTokenId: 0,
};

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
