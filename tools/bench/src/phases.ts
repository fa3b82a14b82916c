import { AdamW, dpoNll, GradientAccumulator, setWeightCaching, tf } from '@irpo/core';
import { createModel, type LlamaModel } from '@irpo/model';
import { OnnxLlama } from '@irpo/onnx';
import { LocalEngine, type Tokenizer } from '@irpo/sampler';
import { batchLogProbs, packBatch, type EncodedSequence, type PackedBatch } from '@irpo/trainer';
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

/**
 * The training/scoring rows: 2·pairs sequences (chosen then rejected) of seq + 1 ids, the first
 * promptTokens of them prompt; packed by the trainer, each row gives seq positions.
 */
function pairRows(c: BenchConfig): EncodedSequence[] {
  const full = ids(2 * c.pairs * (c.seq + 1), c.spec.vocabSize, 1);
  return Array.from({ length: 2 * c.pairs }, (_, r) => {
    const row = Array.from(full.subarray(r * (c.seq + 1), (r + 1) * (c.seq + 1)));
    return { promptIds: row.slice(0, c.promptTokens), responseIds: row.slice(c.promptTokens) };
  });
}

/** Pairs [from, to) packed as the trainer packs them: chosen rows, then their rejected rows. */
function pairChunk(rows: EncodedSequence[], pairs: number, from: number, to: number): PackedBatch {
  return packBatch([...rows.slice(from, to), ...rows.slice(pairs + from, pairs + to)], 0);
}

/**
 * One DPO+NLL AdamW step: chosen and rejected through the model, fused log-probs, gradients,
 * update. With `trainChunkPairs` < pairs the pairs go through in chunks whose gradients are
 * accumulated (the same step: the loss is a mean over pairs), as the trainer's micro-batches do,
 * so the activations of only one chunk are alive at a time.
 */
export function trainPhase(c: BenchConfig, opts: { lora?: number } = {}): PhaseRun {
  const model = createModel(c.spec, { seed: 0 });
  model.gradientCheckpointing = c.checkpoint;
  // LoRA: the base frozen (no gradients, no AdamW moments); only A and B train.
  if (opts.lora !== undefined) model.attachLora({ r: opts.lora, alpha: 2 * opts.lora }, { seed: 0 });
  const trained = model.trainableVariables;
  const rows = pairRows(c);
  const chunks: PackedBatch[] = [];
  for (let p = 0; p < c.pairs; p += c.trainChunkPairs) chunks.push(pairChunk(rows, c.pairs, p, Math.min(p + c.trainChunkPairs, c.pairs)));
  const respLen = c.seq - c.promptTokens + 1;
  const optimizer = new AdamW({ lr: 1e-4 });
  // variableGrads names gradients by tfjs's (auto-generated) variable names; AdamW by HF names.
  const byTfName = new Map([...trained].map(([hf, v]) => [v.name, hf]));
  const varList = [...trained.values()];
  const chunkGrads = (batch: PackedBatch) => {
    const pairs = batch.batch / 2;
    const { value, grads } = tf.variableGrads(() => {
      // The trainer's scoring: logits at the response positions only (forwardAt).
      const logps = batchLogProbs(model, batch); // [2P]
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
        optimizer.applyGradients(trained, grads);
        tf.dispose(Object.values(grads));
        if (!Number.isFinite(loss)) throw new Error(`train: loss is ${loss}`);
      } finally {
        setWeightCaching(caching);
      }
    },
    dispose() {
      optimizer.dispose();
      model.dispose();
    },
  };
}

/** No-grad scoring of the same batch: what the reference model does once per iteration. */
export function reflogpPhase(c: BenchConfig): PhaseRun {
  const model = createModel(c.spec, { seed: 0 });
  const batch = pairChunk(pairRows(c), c.pairs, 0, c.pairs);
  return {
    tokens: 2 * c.pairs * c.seq,
    async step() {
      const logps = batchLogProbs(model, batch);
      await logps.data();
      logps.dispose();
    },
    dispose() {
      model.dispose();
    },
  };
}

/** The reflogp phase on ONNX Runtime: the same batch through the scoring graph (log-softmax in the graph). */
export async function onnxReflogpPhase(c: BenchConfig, threads?: number): Promise<PhaseRun> {
  const model = createModel(c.spec, { seed: 0 });
  const onnx = await OnnxLlama.fromModel(model, { threads });
  model.dispose();
  const batch = pairChunk(pairRows(c), c.pairs, 0, c.pairs);
  await onnx.session('score'); // built outside the timed steps, as a run builds it once per model
  return {
    tokens: 2 * c.pairs * c.seq,
    async step() {
      const sums = await onnx.sequenceLogps(batch);
      if (!sums.every(Number.isFinite)) throw new Error('reflogp: a log-prob is not finite');
    },
    dispose() {
      void onnx.dispose();
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
  return sampleRun(c, model, () => model.dispose());
}

/** The sample phase on ONNX Runtime: the same LocalEngine over the decode graph. */
export async function onnxSamplePhase(c: BenchConfig, threads?: number): Promise<PhaseRun> {
  const model = createModel(c.spec, { seed: 0 });
  const onnx = await OnnxLlama.fromModel(model, { threads });
  model.dispose();
  await onnx.session('decode');
  return sampleRun(c, onnx, () => void onnx.dispose());
}

function sampleRun(c: BenchConfig, model: LlamaModel | OnnxLlama, dispose: () => void): PhaseRun {
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
    dispose,
  };
}
