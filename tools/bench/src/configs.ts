import type { ModelSpec } from '@irpo/contracts';

/** One benchmark shape: the model and the work each phase does (the PyTorch peer mirrors it). */
export interface BenchConfig {
  name: string;
  spec: ModelSpec;
  /** Tokens per training/scoring sequence. */
  seq: number;
  /** Preference pairs per step: 2·pairs sequences (chosen + rejected) go through the model at once. */
  pairs: number;
  /**
   * Pairs per gradient chunk of the train phase (= pairs: one pass). Fewer bounds the tensor
   * heap by one chunk's activations; the step (and its tokens) stays the same.
   */
  trainChunkPairs: number;
  /** Train with gradient checkpointing (blocks recomputed in the backward pass; see LlamaModel). */
  checkpoint: boolean;
  /** Tokens of each sequence that are prompt (masked out of the log-probs); the rest is response. */
  promptTokens: number;
  /** Sampling: rows decoded together, new tokens per row, prompt tokens per row. */
  sampleRows: number;
  newTokens: number;
  samplePrompt: number;
  /** Timed repetitions by default (the large config runs fewer, and says so in its lines). */
  reps: number;
}

const base = {
  architecture: 'LlamaForCausalLM',
  ropeTheta: 10000,
  ropeScaling: null,
  rmsNormEps: 1e-5,
  attentionBias: false,
  bosTokenId: null,
  eosTokenId: null,
  padTokenId: 0,
  maxPositions: 512,
} as const;

function spec(
  s: Pick<ModelSpec, 'vocabSize' | 'hiddenSize' | 'intermediateSize' | 'numLayers' | 'numHeads' | 'numKvHeads' | 'tieWordEmbeddings'>,
): ModelSpec {
  return { ...base, ...s } as ModelSpec;
}

/** The shapes of issue 9; tools/bench/peer/bench.py holds the same table. */
export const BENCH_CONFIGS: Record<string, BenchConfig> = {
  tiny: {
    name: 'tiny',
    spec: spec({
      vocabSize: 512,
      hiddenSize: 128,
      intermediateSize: 344,
      numLayers: 4,
      numHeads: 4,
      numKvHeads: 4,
      tieWordEmbeddings: false,
    }),
    seq: 128,
    pairs: 16,
    trainChunkPairs: 16,
    checkpoint: false,
    promptTokens: 64,
    sampleRows: 32,
    newTokens: 64,
    samplePrompt: 16,
    reps: 7,
  },
  small: {
    name: 'small',
    spec: spec({
      vocabSize: 8192,
      hiddenSize: 512,
      intermediateSize: 1376,
      numLayers: 8,
      numHeads: 8,
      numKvHeads: 2,
      tieWordEmbeddings: false,
    }),
    seq: 256,
    pairs: 8,
    trainChunkPairs: 2,
    checkpoint: false,
    promptTokens: 128,
    sampleRows: 16,
    newTokens: 64,
    samplePrompt: 16,
    reps: 5,
  },
  // SmolLM2-135M's shapes; ~1 min per train step on wasm, so fewer repetitions by default.
  smollm: {
    name: 'smollm',
    spec: spec({
      vocabSize: 49152,
      hiddenSize: 576,
      intermediateSize: 1536,
      numLayers: 30,
      numHeads: 9,
      numKvHeads: 3,
      tieWordEmbeddings: true,
    }),
    seq: 256,
    pairs: 4,
    trainChunkPairs: 2,
    checkpoint: true,
    promptTokens: 128,
    sampleRows: 8,
    newTokens: 32,
    samplePrompt: 16,
    reps: 2,
  },
  // SmolLM2-360M's shapes: full fine-tuning does not fit wasm's 4 GiB heap; LoRA (--lora) is the point.
  smollm360: {
    name: 'smollm360',
    spec: spec({
      vocabSize: 49152,
      hiddenSize: 960,
      intermediateSize: 2560,
      numLayers: 32,
      numHeads: 15,
      numKvHeads: 5,
      tieWordEmbeddings: true,
    }),
    seq: 256,
    pairs: 4,
    trainChunkPairs: 1,
    checkpoint: true,
    promptTokens: 128,
    sampleRows: 8,
    newTokens: 32,
    samplePrompt: 16,
    reps: 1,
  },
};
