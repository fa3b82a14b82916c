/**
 * Small stand-ins for @irpo/model and @irpo/data so the sampler tests run without them.
 *
 * The fake model's logits at position t depend on the current token, the previous token and
 * the row's position (pad positions do not count):
 *   logits_t = A[x_t] + B[x_{t-1}] + P[pos_t]      (x_{-1} is a "none" row of B)
 * so left padding, positions and the KV cache's per-row state (previous token, position) all
 * have to be right for generation to match the full forward pass.
 */
import { tf } from '@irpo/core';
import { mulberry32, type ModelSpec, type Problem } from '@irpo/contracts';
import type { CausalLM, KvCache, SamplingTask, Tokenizer } from '../types.js';

export const ALPHABET = 'abcdefghij0123456789 \n:=+?QA.';
export const PAD = 0;
export const EOS = 1;

/**
 * A test double, not @irpo/model's CharTokenizer: ids 0 <pad> and 1 <eos>, no BOS, then ALPHABET;
 * characters outside ALPHABET encode as '?'. FakeLM's vocabulary is sized to it.
 */
export class FakeCharTokenizer implements Tokenizer {
  readonly vocabSize = 2 + ALPHABET.length;
  readonly bosTokenId = null;
  readonly eosTokenIds = [EOS];
  readonly padTokenId = PAD;
  encode(text: string): number[] {
    return Array.from(text, (c) => {
      const i = ALPHABET.indexOf(c);
      return 2 + (i >= 0 ? i : ALPHABET.indexOf('?'));
    });
  }
  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    return ids.map((id) => (id >= 2 ? ALPHABET[id - 2] : options.skipSpecialTokens ? '' : id === EOS ? '<eos>' : '<pad>')).join('');
  }
}

class FakeCache implements KvCache {
  disposed = false;
  constructor(
    public prev: tf.Tensor1D, // [B] previous token per row
    public pos: tf.Tensor1D, // [B] position of the next token per row
    public length: number,
    readonly capacity: number,
  ) {}
  get batch(): number {
    return this.prev.shape[0];
  }
  select(rows: number[]): KvCache {
    this.check();
    const idx = tf.tensor1d(rows, 'int32');
    const next = new FakeCache(tf.gather(this.prev, idx), tf.gather(this.pos, idx), this.length, this.capacity);
    idx.dispose();
    this.dispose();
    return next;
  }
  check(): void {
    if (this.disposed) throw new Error('cache used after dispose');
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.prev.dispose();
    this.pos.dispose();
  }
}

export class FakeLM implements CausalLM {
  readonly spec: ModelSpec;
  readonly variables = new Map<string, tf.Variable>();
  private readonly A: tf.Tensor2D;
  private readonly B: tf.Tensor2D;
  private readonly P: tf.Tensor2D;
  readonly maxPositions = 256;
  prefillCalls: number[] = []; // batch size of each prefill
  decodeBatches: number[] = []; // batch size of each decode step

  constructor(seed = 1, scale = 2) {
    const V = new FakeCharTokenizer().vocabSize;
    const rng = mulberry32(seed);
    const rand = (n: number) => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
    this.A = tf.tensor2d(rand(V * V), [V, V]);
    this.B = tf.tensor2d(rand((V + 1) * V), [V + 1, V]);
    this.P = tf.tensor2d(rand(this.maxPositions * V), [this.maxPositions, V]);
    this.spec = {
      architecture: 'LlamaForCausalLM',
      vocabSize: V,
      hiddenSize: 4,
      intermediateSize: 8,
      numLayers: 1,
      numHeads: 1,
      numKvHeads: 1,
      maxPositions: this.maxPositions,
      ropeTheta: 10000,
      ropeScaling: null,
      rmsNormEps: 1e-5,
      tieWordEmbeddings: false,
      attentionBias: false,
      bosTokenId: null,
      eosTokenId: EOS,
      padTokenId: PAD,
    } as ModelSpec;
  }

  private logitsAt(cur: number[], prev: number[], pos: number[]): tf.Tensor2D {
    return tf.tidy(() => {
      const a = tf.gather(this.A, tf.tensor1d(cur, 'int32'));
      const b = tf.gather(this.B, tf.tensor1d(prev, 'int32'));
      const p = tf.gather(
        this.P,
        tf.tensor1d(
          pos.map((x) => Math.min(x, this.maxPositions - 1)),
          'int32',
        ),
      );
      return tf.add(tf.add(a, b), p) as tf.Tensor2D;
    });
  }

  /** Per row: previous token and position of every slot (pads get position 0 and "none"). */
  private scan(ids: number[][], mask: number[][]): { prev: number[][]; pos: number[][] } {
    const none = this.spec.vocabSize;
    const prev: number[][] = [];
    const pos: number[][] = [];
    ids.forEach((row, b) => {
      let last = none;
      let p = 0;
      prev.push([]);
      pos.push([]);
      row.forEach((tok, t) => {
        if (mask[b][t]) {
          prev[b].push(last);
          pos[b].push(p);
          last = tok;
          p++;
        } else {
          prev[b].push(none);
          pos[b].push(0);
        }
      });
    });
    return { prev, pos };
  }

  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = inputIds.shape;
    const ids = inputIds.arraySync();
    const mask = attentionMask ? attentionMask.arraySync() : ids.map((r) => r.map(() => 1));
    const { prev, pos } = this.scan(ids, mask);
    const flat = this.logitsAt(ids.flat(), prev.flat(), pos.flat());
    const out = tf.reshape(flat, [B, T, this.spec.vocabSize]) as tf.Tensor3D;
    flat.dispose();
    return out;
  }

  prefill(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, maxNewTokens: number): { logits: tf.Tensor2D; cache: KvCache } {
    const [B, T] = inputIds.shape;
    this.prefillCalls.push(B);
    const ids = inputIds.arraySync();
    const mask = attentionMask.arraySync();
    const { prev, pos } = this.scan(ids, mask);
    const last = T - 1; // left padded: the last slot is real in every row
    const logits = this.logitsAt(
      ids.map((r) => r[last]),
      prev.map((r) => r[last]),
      pos.map((r) => r[last]),
    );
    const cache = new FakeCache(
      tf.tensor1d(
        ids.map((r) => r[last]),
        'int32',
      ),
      tf.tensor1d(
        pos.map((r) => r[last] + 1),
        'int32',
      ),
      T,
      T + maxNewTokens,
    );
    return { logits, cache };
  }

  decode(tokens: tf.Tensor1D, cache: KvCache): tf.Tensor2D {
    const c = cache as FakeCache;
    c.check();
    if (tokens.shape[0] !== c.batch) throw new Error(`decode: ${tokens.shape[0]} tokens for a cache of ${c.batch} rows`);
    if (c.length >= c.capacity) throw new Error(`decode: cache full (${c.capacity})`);
    this.decodeBatches.push(c.batch);
    const cur = Array.from(tokens.dataSync());
    const logits = this.logitsAt(cur, Array.from(c.prev.dataSync()), Array.from(c.pos.dataSync()));
    const nextPos = tf.tidy(() => tf.add(c.pos, tf.scalar(1, 'int32')) as tf.Tensor1D);
    c.prev.dispose();
    c.pos.dispose();
    c.prev = tf.clone(tokens);
    c.pos = nextPos;
    c.length++;
    return logits;
  }

  dispose(): void {
    this.A.dispose();
    this.B.dispose();
    this.P.dispose();
  }
}

/** Answers are the last digit of the completion. */
export const fakeTask: SamplingTask = {
  name: 'fake',
  prompt: (p: Problem) => `Q: ${p.question}\nA:`,
  extractAnswer: (completion: string) => {
    const m = completion.match(/(\d)(?!.*\d)/s);
    return m ? m[1] : null;
  },
  isCorrect: (answer: string | null, p: Problem) => answer !== null && answer === p.answer,
  stop: ['\n\n'],
};

export function fakeProblems(count: number): Problem[] {
  return Array.from({ length: count }, (_, i) => ({
    v: 1 as const,
    id: `fake/${i}`,
    question: `${i}+${i % 3}=?`,
    answer: String((i + (i % 3)) % 10),
  }));
}
