import { AdamW, dpoNll, GradientAccumulator, selectedLogProbs, setWeightCaching, tf } from '@irpo/core';
import { createModel, type LlamaModel } from '@irpo/model';
import { LocalEngine, type Tokenizer } from '@irpo/sampler';
import type { BenchConfig } from './configs.js';

/** One phase, set up: `step` does one repetition (synchronously finished when it resolves). */
export interface PhaseRun {
  /** Tokens one step processes (what tokens_per_s counts). */
  tokens: number;
  step(): Promise<void>;
  dispose(): void;
}

/** Deterministic token ids in [1, vocab) (0 is the pad id): a 32-bit LCG. */
function ids(count: number, vocab: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = 1 + (s % (vocab - 1));
  }
  return out;
}

/** The training/scoring batch: 2·pairs rows (chosen then rejected) of seq tokens, response after the prompt. */
function pairBatch(c: BenchConfig) {
  const rows = 2 * c.pairs;
  const full = ids(rows * (c.seq + 1), c.spec.vocabSize, 1);
  const input = new Int32Array(rows * c.seq);
  const target = new Int32Array(rows * c.seq);
  const mask = new Float32Array(rows * c.seq);
  for (let r = 0; r < rows; r++) {
    for (let t = 0; t < c.seq; t++) {
      input[r * c.seq + t] = full[r * (c.seq + 1) + t]!;
      target[r * c.seq + t] = full[r * (c.seq + 1) + t + 1]!; // logits at t predict token t+1
      mask[r * c.seq + t] = t + 1 >= c.promptTokens ? 1 : 0;
    }
  }
  return {
    inputs: tf.tensor2d(input, [rows, c.seq], 'int32'),
    attention: tf.ones([rows, c.seq], 'float32') as tf.Tensor2D,
    targets: tf.tensor2d(target, [rows, c.seq], 'int32'),
    mask: tf.tensor2d(mask, [rows, c.seq]),
  };
}

/** Rows [from, to) of each pair half: chosen pairs from..to then their rejected ones. */
function pairChunk(batch: ReturnType<typeof pairBatch>, pairs: number, from: number, to: number) {
  const pick = (t: tf.Tensor2D) => tf.concat([t.slice([from, 0], [to - from, -1]), t.slice([pairs + from, 0], [to - from, -1])]) as tf.Tensor2D;
  return withSelection({ inputs: pick(batch.inputs), attention: pick(batch.attention), targets: pick(batch.targets), mask: pick(batch.mask) });
}

/**
 * The response positions of a batch (where the mask is 1) with their targets and rows: what the
 * trainer scores (forwardAt + selectedLogProbs); the torch peer selects the same positions.
 */
function withSelection<B extends { inputs: tf.Tensor2D; targets: tf.Tensor2D; mask: tf.Tensor2D }>(batch: B) {
  const T = batch.inputs.shape[1];
  const mask = batch.mask.dataSync();
  const targets = batch.targets.dataSync();
  const positions: number[] = [];
  for (let i = 0; i < mask.length; i++) if (mask[i]) positions.push(i);
  return {
    ...batch,
    positions: tf.tensor1d(positions, 'int32'),
    selectedTargets: tf.tensor1d(positions.map((i) => targets[i]!), 'int32'),
    rows: tf.tensor1d(positions.map((i) => Math.floor(i / T)), 'int32'),
  };
}

/** Summed response log-probs [rows] of a batch with its selection. */
function batchLogps(model: LlamaModel, b: ReturnType<typeof withSelection<ReturnType<typeof pairBatch>>>): tf.Tensor1D {
  return selectedLogProbs(model.forwardAt(b.inputs, b.attention, b.positions), b.selectedTargets, b.rows, b.inputs.shape[0]);
}

/**
 * One DPO+NLL AdamW step: chosen and rejected through the model, fused log-probs, gradients,
 * update. With `trainChunkPairs` < pairs the pairs go through in chunks whose gradients are
 * accumulated (the same step: the loss is a mean over pairs), as the trainer's micro-batches do,
 * so the activations of only one chunk are alive at a time.
 */
export function trainPhase(c: BenchConfig): PhaseRun {
  const model = createModel(c.spec, { seed: 0 });
  model.gradientCheckpointing = c.checkpoint;
  const full = pairBatch(c);
  const chunks: ReturnType<typeof pairChunk>[] = [];
  for (let p = 0; p < c.pairs; p += c.trainChunkPairs) chunks.push(pairChunk(full, c.pairs, p, Math.min(p + c.trainChunkPairs, c.pairs)));
  tf.dispose(Object.values(full));
  const respLen = c.seq - c.promptTokens + 1;
  const optimizer = new AdamW({ lr: 1e-4 });
  // variableGrads names gradients by tfjs's (auto-generated) variable names; AdamW by HF names.
  const byTfName = new Map([...model.variables].map(([hf, v]) => [v.name, hf]));
  const varList = [...model.variables.values()];
  const chunkGrads = (batch: (typeof chunks)[number]) => {
    const pairs = batch.inputs.shape[0] / 2;
    const { value, grads } = tf.variableGrads(() => {
      const logps = batchLogps(model, batch); // [2P]
      const [policyChosen, policyRejected] = tf.split(logps, 2) as [tf.Tensor1D, tf.Tensor1D];
      const ref = () => tf.fill([pairs], -respLen * Math.log(c.spec.vocabSize)) as tf.Tensor1D;
      const out = dpoNll({ policyChosen, policyRejected, refChosen: ref(), refRejected: ref() }, tf.fill([pairs], respLen) as tf.Tensor1D);
      tf.dispose(Object.values(out.metrics));
      return tf.mean(out.losses) as tf.Scalar;
    }, varList);
    const named: Record<string, tf.Tensor> = {};
    for (const [name, g] of Object.entries(grads)) named[byTfName.get(name)!] = g;
    return { value, named };
  };
  return {
    tokens: 2 * c.pairs * c.seq,
    async step() {
      // As the trainer does: weights change every step, so no per-weight caches.
      const caching = setWeightCaching(false);
      try {
        let loss = 0;
        let grads: Record<string, tf.Tensor>;
        if (chunks.length === 1) {
          const { value, named } = chunkGrads(chunks[0]!);
          grads = named;
          loss = (await value.data())[0]!;
          value.dispose();
        } else {
          const acc = new GradientAccumulator();
          for (const chunk of chunks) {
            const { value, named } = chunkGrads(chunk);
            acc.add(named);
            tf.dispose(Object.values(named));
            loss += (await value.data())[0]! / chunks.length;
            value.dispose();
          }
          grads = acc.mean();
          acc.reset();
        }
        optimizer.applyGradients(model.variables, grads);
        tf.dispose(Object.values(grads));
        if (!Number.isFinite(loss)) throw new Error(`train: loss is ${loss}`);
      } finally {
        setWeightCaching(caching);
      }
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
      for (const chunk of chunks) tf.dispose(Object.values(chunk));
    },
  };
}

/** No-grad scoring of the same batch: what the reference model does once per iteration. */
export function reflogpPhase(c: BenchConfig): PhaseRun {
  const model = createModel(c.spec, { seed: 0 });
  const batch = withSelection(pairBatch(c));
  return {
    tokens: 2 * c.pairs * c.seq,
    async step() {
      const logps = tf.tidy(() => batchLogps(model, batch));
      await logps.data();
      logps.dispose();
    },
    dispose() {
      model.dispose();
      tf.dispose(Object.values(batch));
    },
  };
}

/** Ids straight through, no EOS: every row decodes exactly its token limit. */
export function idTokenizer(vocabSize: number): Tokenizer {
  return {
    vocabSize,
    bosTokenId: null,
    eosTokenIds: [],
    padTokenId: 0,
    encode: (text) => Array.from(text, (ch) => 1 + (ch.charCodeAt(0) % (vocabSize - 1))),
    decode: (list) => list.map((i) => String.fromCharCode(32 + (i % 90))).join(''),
  };
}

/** KV-cache decoding at temperature 0.8 through the sampler's LocalEngine: sampleRows × newTokens. */
export function samplePhase(c: BenchConfig): PhaseRun {
  const model: LlamaModel = createModel(c.spec, { seed: 0 });
  const engine = new LocalEngine(model, idTokenizer(c.spec.vocabSize), { maxBatchSize: c.sampleRows, addSpecialTokens: false });
  const prompt = Array.from(ids(c.samplePrompt, 90, 7), (i) => String.fromCharCode(32 + i)).join('');
  let seed = 0;
  return {
    tokens: c.sampleRows * c.newTokens,
    async step() {
      const before = engine.stats.completionTokens;
      await engine.generate({ prompts: [prompt], n: c.sampleRows, temperature: 0.8, maxNewTokens: c.newTokens, seed: seed++ });
      const made = engine.stats.completionTokens - before;
      if (made !== c.sampleRows * c.newTokens) throw new Error(`sample: ${made} tokens, expected ${c.sampleRows * c.newTokens}`);
    },
    dispose() {
      model.dispose();
    },
  };
}
