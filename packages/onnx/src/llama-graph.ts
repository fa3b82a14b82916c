import type { ModelSpec } from '@irpo/contracts';
import { expectedWeightShapes, headDimOf, ropeInvFreq } from '@irpo/model';
import { GraphBuilder } from './graph-builder.js';

/**
 * Which graph to build:
 * - `logits`: ids → logits [B, T, V] (checks against other implementations);
 * - `score`: ids, plus N flat positions (b·T + t) and the N target tokens → log p(target) [N], the
 *   log-softmax taken in the graph (so no [B, T, V] tensor leaves it);
 * - `decode`: ids [B, S] after a cache of C columns (`past_key.i`/`past_value.i` [B, kvHeads, C, d],
 *   columns the mask zeroes allowed: unfilled capacity, left padding) → last-position logits [B, V]
 *   and this call's keys and values `new_key.i`/`new_value.i` [B, kvHeads, S, d] (keys rotated),
 *   which the caller writes into its cache. C ≥ 1: a prefill passes one masked column.
 */
export type LlamaGraphKind = 'logits' | 'score' | 'decode';

export interface LlamaGraphOptions {
  /**
   * Fused kernels of ONNX Runtime (default true): RMSNorm as SimplifiedLayerNormalization, with
   * the residual add folded in (SkipSimplifiedLayerNormalization), and RoPE as RotaryEmbedding.
   * They take the decode graph from 72 nodes a layer to 46 and measured faster on the bench's tiny
   * shape, where a step's cost is largely per node. false: standard ONNX ops only, for runtimes without ORT's
   * contrib domain (and the reference the fused graph is tested against).
   */
  fused?: boolean;
}

/** Additive mask value, as the TensorFlow.js model: exp(-1e9 − max) is 0 in float32, and a fully masked row stays finite. */
const MASKED = -1e9;

/**
 * The Llama-family decoder (Llama, Qwen2, Mistral) as an ONNX graph of standard ops: pre-RMSNorm
 * blocks of grouped-query attention with rotate-half RoPE (Llama 3 scaling folded into the
 * inverse frequencies) and a SwiGLU MLP. Linears are Gemm with transB on the Hugging Face [out, in]
 * weights, stored as initializers under their checkpoint names.
 *
 * Inputs of every kind: `input_ids` int64 [B, S]; `position_ids` float [B, S] (the caller's
 * positions: 0.. for right padding, the count of real tokens before for left padding);
 * `attention_mask` float [B, L] over every key column (L = S, or C + S with a cache): 1 real, 0 pad or unfilled.
 * A query at column L − S + i sees keys j ≤ L − S + i that the mask keeps.
 */
export function buildLlamaGraph(
  spec: ModelSpec,
  weight: (name: string) => Float32Array,
  kind: LlamaGraphKind,
  options: LlamaGraphOptions = {},
): GraphBuilder {
  const fused = options.fused ?? true;
  const g = new GraphBuilder(`llama-${kind}`);
  const { hiddenSize: h, numHeads: nh, numKvHeads: nkv, vocabSize: vocab, rmsNormEps: eps } = spec;
  const d = headDimOf(spec);
  const shapes = expectedWeightShapes(spec);
  const w = (name: string): string => {
    const shape = shapes.get(name);
    if (!shape) throw new Error(`buildLlamaGraph: ${name} is not a weight of this model`);
    return g.initializer(name, weight(name), shape);
  };

  const ids = g.input('input_ids', 'int64', ['batch', 'seq']);
  const positions = g.input('position_ids', 'float', ['batch', 'seq']);
  const keyMask = g.input('attention_mask', 'float', ['batch', 'keys']);
  const past =
    kind === 'decode'
      ? Array.from({ length: spec.numLayers }, (_, i) => ({
          k: g.input(`past_key.${i}`, 'float', ['batch', nkv, 'past', d]),
          v: g.input(`past_value.${i}`, 'float', ['batch', nkv, 'past', d]),
        }))
      : [];

  // The cache's column count C, [1] (decode only).
  const pastLen = kind === 'decode' ? g.op('Slice', [g.op('Shape', [past[0]!.k]), g.constant([2], 'int64'), g.constant([3], 'int64')]) : '';
  const idsShape = g.op('Shape', [ids]); // [2]: B, S
  const seqLen = g.op('Gather', [idsShape, g.scalar(1)]); // S
  const keyLen = g.op('Gather', [g.op('Shape', [keyMask]), g.scalar(1)]); // L
  const heads = (n: number): string => g.op('Concat', [idsShape, g.constant([n, d], 'int64')], { axis: 0 }); // [B, S, n, d]

  // RoPE tables [B, 1, S, d], rotate-half layout: angle j and j + d/2 share frequency j.
  const angles = fused
    ? ''
    : (() => {
        const freqs = g.op('Mul', [g.op('Unsqueeze', [positions, g.constant([2], 'int64')]), g.constant(ropeInvFreq(spec), 'float')]); // [B, S, d/2]
        return g.op('Unsqueeze', [g.op('Concat', [freqs, freqs], { axis: -1 }), g.constant([1], 'int64')]); // [B, 1, S, d]
      })();
  const cos = fused ? '' : g.op('Cos', [angles]);
  const sin = fused ? '' : g.op('Sin', [angles]);
  // Fused RoPE: RotaryEmbedding reads cos/sin rows of a cache by position id. The "cache" here is
  // one row per (b, s) of this call, [B·S, d/2], and the ids b·S + s pick them: every row keeps
  // its own (float) positions and nothing is sized by the model's maximum length.
  const ropeCache = fused
    ? (() => {
        const flat = g.op('Mul', [g.op('Reshape', [positions, g.constant([-1, 1], 'int64')]), g.constant(ropeInvFreq(spec), 'float')]); // [B·S, d/2]
        const rows = g.op('Mul', [g.op('Gather', [idsShape, g.scalar(0)]), seqLen]); // B·S
        const ids = g.op('Reshape', [g.op('Range', [g.scalar(0), rows, g.scalar(1)]), idsShape]); // [B, S]
        return { ids, cos: g.op('Cos', [flat]), sin: g.op('Sin', [flat]) };
      })()
    : undefined;
  const rope = (x: string): string => {
    if (ropeCache) return g.contrib('RotaryEmbedding', [x, ropeCache.ids, ropeCache.cos, ropeCache.sin], { interleaved: 0 });
    // x [B, heads, S, d] → x·cos + rotate_half(x)·sin, rotate_half(x) = [−x₂, x₁]
    const x1 = g.op('Slice', [x, g.constant([0], 'int64'), g.constant([d / 2], 'int64'), g.constant([3], 'int64')]);
    const x2 = g.op('Slice', [x, g.constant([d / 2], 'int64'), g.constant([d], 'int64'), g.constant([3], 'int64')]);
    const rotated = g.op('Concat', [g.op('Neg', [x2]), x1], { axis: 3 });
    return g.op('Add', [g.op('Mul', [x, cos]), g.op('Mul', [rotated, sin])]);
  };

  // Attention bias [B, 1, S, L]: 0 where a query may look, −1e9 elsewhere.
  const queryCols = g.op('Unsqueeze', [g.op('Range', [g.op('Sub', [keyLen, seqLen]), keyLen, g.scalar(1)]), g.constant([1], 'int64')]); // [S, 1]
  const keyCols = g.op('Unsqueeze', [g.op('Range', [g.scalar(0), keyLen, g.scalar(1)]), g.constant([0], 'int64')]); // [1, L]
  const causal = g.op('LessOrEqual', [keyCols, queryCols]); // [S, L]
  const keyOk = g.op('Unsqueeze', [g.op('Greater', [keyMask, g.constant([0.5], 'float', [])]), g.constant([1, 2], 'int64')]); // [B, 1, 1, L]
  const bias = g.op('Where', [g.op('And', [causal, keyOk]), g.constant([0], 'float', []), g.constant([MASKED], 'float', [])]); // [B, 1, S, L]

  const rmsNorm = (x: string, weightName: string): string => {
    if (fused) return g.op('SimplifiedLayerNormalization', [x, w(weightName)], { axis: -1, epsilon: { f: eps } });
    const meanSq = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: [-1], keepdims: 1 }); // [N, 1]
    const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [meanSq, g.constant([eps], 'float', [])])])]);
    return g.op('Mul', [g.op('Mul', [x, inv]), w(weightName)]);
  };
  // x + delta and its RMSNorm: one SkipSimplifiedLayerNormalization when fused (outputs: the norm,
  // mean, 1/rms, and the sum).
  const addNorm = (x: string, delta: string, weightName: string): { sum: string; normed: string } => {
    if (!fused) {
      const sum = g.op('Add', [x, delta]);
      return { sum, normed: rmsNorm(sum, weightName) };
    }
    const normed = g.contrib('SkipSimplifiedLayerNormalization', [delta, x, w(weightName)], { epsilon: { f: eps } }, undefined, 4);
    return { sum: `${normed}_3`, normed };
  };
  const linear = (x: string, weightName: string, biasName?: string): string =>
    g.op('Gemm', biasName ? [x, w(weightName), w(biasName)] : [x, w(weightName)], { transB: 1 });

  let x = g.op('Reshape', [g.op('Gather', [w('model.embed_tokens.weight'), ids]), g.constant([-1, h], 'int64')]); // [B*S, H]
  let normed = rmsNorm(x, 'model.layers.0.input_layernorm.weight'); // [B*S, H]
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    const bias3 = (m: string): string | undefined => (spec.attentionBias ? `${p}self_attn.${m}_proj.bias` : undefined);
    const proj = (m: string, n: number): string =>
      g.op('Transpose', [g.op('Reshape', [linear(normed, `${p}self_attn.${m}_proj.weight`, bias3(m)), heads(n)])], { perm: [0, 2, 1, 3] }); // [B, n, S, d]
    // Scale q before the score matmul: S·d multiplies instead of S·L.
    const q = g.op('Mul', [rope(proj('q', nh)), g.constant([1 / Math.sqrt(d)], 'float', [])]); // [B, nh, S, d]
    const k = rope(proj('k', nkv)); // [B, nkv, S, d]
    const v = proj('v', nkv); // [B, nkv, S, d]
    // Grouped-query attention without repeating k/v: head h = g·rep + r uses kv head g (HF repeat_kv),
    // so a group's rep query heads stack along the query axis of one matmul.
    const qg = g.op('Reshape', [q, g.constant([0, nkv, -1, d], 'int64')]); // [B, nkv, rep*S, d]
    const scoresWith = (keys: string): string =>
      g.op('Reshape', [g.op('MatMul', [qg, g.op('Transpose', [keys], { perm: [0, 1, 3, 2] })]), g.constant([0, nh, -1, 0], 'int64')]); // [B, nh, S, keys]
    const mix = (weights: string, values: string): string =>
      g.op('MatMul', [g.op('Reshape', [weights, g.constant([0, nkv, -1, 0], 'int64')]), values]); // [B, nkv, rep*S, d]
    let mixed: string;
    if (kind === 'decode') {
      // The cache is never copied in the graph: the scores against the cache's C columns and
      // against this call's S keys are concatenated (a [B, nh, S, C+S] tensor, d times smaller
      // than the cache), softmaxed together, and split again for the two value matmuls. Only the
      // new keys and values leave the graph; the host writes them into its cache.
      const probs = g.op('Softmax', [g.op('Add', [g.op('Concat', [scoresWith(past[i]!.k), scoresWith(k)], { axis: 3 }), bias])], {
        axis: -1,
      });
      const axis3 = g.constant([3], 'int64');
      const pastProbs = g.op('Slice', [probs, g.constant([0], 'int64'), pastLen, axis3]);
      const newProbs = g.op('Slice', [probs, pastLen, g.constant([2 ** 53 - 1], 'int64'), axis3]);
      mixed = g.op('Add', [mix(pastProbs, past[i]!.v), mix(newProbs, v)]);
      g.output(k, `new_key.${i}`, 'float', ['batch', nkv, 'seq', d]);
      g.output(v, `new_value.${i}`, 'float', ['batch', nkv, 'seq', d]);
    } else {
      mixed = mix(g.op('Softmax', [g.op('Add', [scoresWith(k), bias])], { axis: -1 }), v);
    }
    const merged = g.op('Reshape', [
      g.op('Transpose', [g.op('Reshape', [mixed, g.constant([0, nh, -1, d], 'int64')])], { perm: [0, 2, 1, 3] }),
      g.constant([-1, nh * d], 'int64'),
    ]); // [B*S, nh*d]
    const mid = addNorm(x, linear(merged, `${p}self_attn.o_proj.weight`), `${p}post_attention_layernorm.weight`);
    const gate = linear(mid.normed, `${p}mlp.gate_proj.weight`); // [B*S, I]
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), linear(mid.normed, `${p}mlp.up_proj.weight`)]); // silu(gate)·up
    // The residual sum and the next norm: the next layer's input norm, or the final one.
    const next = i + 1 < spec.numLayers ? `model.layers.${i + 1}.input_layernorm.weight` : 'model.norm.weight';
    ({ sum: x, normed } = addNorm(mid.sum, linear(act, `${p}mlp.down_proj.weight`), next));
  }

  // `normed` is now the final norm of every position; the head reads the positions it needs.
  const headName = spec.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = (hidden: string): string => g.op('Gemm', [hidden, w(headName)], { transB: 1 });
  if (kind === 'logits') {
    const logits = head(normed); // [B*S, V]
    g.output(g.op('Reshape', [logits, g.op('Concat', [idsShape, g.constant([vocab], 'int64')], { axis: 0 })]), 'logits', 'float', [
      'batch',
      'seq',
      vocab,
    ]);
  } else if (kind === 'score') {
    const at = g.input('positions', 'int64', ['n']);
    const targets = g.input('targets', 'int64', ['n']);
    const logits = head(g.op('Gather', [normed, at], { axis: 0 })); // [N, V]
    // log p(target) = logit[target] − logsumexp(logits), with the max taken out for stability.
    const max = g.op('ReduceMax', [logits], { axes: [1], keepdims: 1 }); // [N, 1]
    const lse = g.op('Add', [
      g.op('Log', [g.op('ReduceSum', [g.op('Exp', [g.op('Sub', [logits, max])]), g.constant([1], 'int64')], { keepdims: 1 })]),
      max,
    ]);
    const picked = g.op('GatherElements', [logits, g.op('Unsqueeze', [targets, g.constant([1], 'int64')])], { axis: 1 }); // [N, 1]
    g.output(g.op('Reshape', [g.op('Sub', [picked, lse]), g.constant([-1], 'int64')]), 'logps', 'float', ['n']);
  } else {
    // Last position of each row: [B*S, H] → [B, S, H] → [B, H].
    const hb = g.op('Reshape', [normed, g.op('Concat', [idsShape, g.constant([h], 'int64')], { axis: 0 })]);
    const last = g.op('Reshape', [
      g.op('Slice', [hb, g.constant([-1], 'int64'), g.constant([2 ** 53 - 1], 'int64'), g.constant([1], 'int64')]),
      g.constant([-1, h], 'int64'),
    ]);
    g.output(head(last), 'logits', 'float', ['batch', vocab]);
  }
  return g;
}
