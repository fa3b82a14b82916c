import { tf } from '@irpo/core';
import {
  fieldPath,
  LORA_TARGET_MODULES,
  LoraConfigSchema,
  type LoraConfig,
  type LoraConfigInput,
  type LoraTargetModule,
  type ModelSpec,
} from '@irpo/contracts';
import { headDimOf } from '../config/hf-config.js';
import type { CausalLM } from './causal-lm.js';
import { LlamaKvCache, type KvCache } from './kv-cache.js';
import { applyRope, ropeInvFreq, ropeTables } from './rope.js';
import { flashAttentionSupports, fusedCausalAttention } from './flash-attention.js';
import { rmsNorm } from './rms-norm.js';
import { addInPlace, hostAttention, hostRmsNorm, hostView, ropeRows, ScratchBuffers, take } from './host-decode.js';
import { expectedWeightShapes } from './weight-names.js';
import { loraTensorName } from './lora.js';

/** Additive mask value: exp(-1e9 - max) is 0 in float32, and a fully masked row stays finite. */
const MASKED = -1e9;

/**
 * How a forward's queries see its keys: an additive bias [B|1, 1, T, T] for the composite ops, or
 * (causal, right-padded rows) the key mask [B, T] (null: every key) for the fused kernel, with its
 * values read once for every layer.
 */
type Attend = { bias: tf.Tensor4D } | { keyMask: tf.Tensor2D | null; keyMaskValues: Float32Array | null };

function fusedAttend(keyMask: tf.Tensor2D | null): Attend {
  return { keyMask, keyMaskValues: keyMask ? (keyMask.dataSync() as Float32Array) : null };
}

/** What every block of one forward shares: batch, length, RoPE tables [B|1, T, 1, d], the mask. */
interface BlockContext {
  b: number;
  t: number;
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
  attend: Attend;
  /** Seed of this forward's LoRA dropout masks; absent: no dropout. Kept for a checkpointed block's recomputation. */
  dropoutSeed?: number;
}

interface LayerWeights {
  inputNorm: tf.Variable;
  postNorm: tf.Variable;
  q: tf.Variable;
  k: tf.Variable;
  v: tf.Variable;
  o: tf.Variable;
  qBias?: tf.Variable;
  kBias?: tf.Variable;
  vBias?: tf.Variable;
  gate: tf.Variable;
  up: tf.Variable;
  down: tf.Variable;
}

/** The seven linears of a block, by their field in LayerWeights. */
type Proj = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';
const PROJ_OF: Record<LoraTargetModule, Proj> = {
  q_proj: 'q',
  k_proj: 'k',
  v_proj: 'v',
  o_proj: 'o',
  gate_proj: 'gate',
  up_proj: 'up',
  down_proj: 'down',
};
const BIAS_OF: Partial<Record<Proj, 'qBias' | 'kBias' | 'vBias'>> = { q: 'qBias', k: 'kBias', v: 'vBias' };

/** One adapted linear: A [r, in], B [out, r]; `slot` numbers it (layer · 8 + module) for dropout seeds. */
interface LoraPair {
  a: tf.Variable;
  b: tf.Variable;
  slot: number;
}

interface AttachedLora {
  config: LoraConfig;
  /** alpha / r. */
  scaling: number;
  byLayer: Map<LayerWeights, Partial<Record<Proj, LoraPair>>>;
  /** A and B by the names PEFT saves them under. */
  variables: Map<string, tf.Variable>;
  seed: number;
  /** Training forwards run so far (each draws fresh dropout masks). */
  calls: number;
  /** Base variables whose `trainable` flag attaching cleared (restored on detach). */
  frozen: tf.Variable[];
}

/** Dropout seeds of successive forwards are this far apart; a forward's masks use seed + slot. */
const DROPOUT_SEED_STRIDE = 65_536;

/**
 * The Llama-family decoder (Llama, Qwen2, Mistral without sliding window): pre-RMSNorm blocks
 * of grouped-query attention with rotate-half RoPE and a SwiGLU MLP. Weights stay in Hugging
 * Face layout ([out, in] linears) and matmuls use transposeB, so loading never copies them.
 */
export class LlamaModel implements CausalLM {
  readonly variables: Map<string, tf.Variable>;
  private readonly layers: LayerWeights[];
  private readonly embed: tf.Variable;
  private readonly finalNorm: tf.Variable;
  private readonly head: tf.Variable;
  private readonly invFreq: Float32Array;
  private readonly headDim: number;
  private readonly scratch = new ScratchBuffers();
  /**
   * Gradient checkpointing (HF's gradient_checkpointing_enable): forward() keeps only each
   * block's input for the backward pass and recomputes the block there. What a training step
   * holds drops from every block's intermediates (attention scores and probabilities, MLP
   * activations: ~140 KB per token per block at SmolLM2-135M's shapes) to one [tokens, hidden]
   * tensor per block, for one more forward's worth of compute. Off by default.
   */
  gradientCheckpointing = false;
  /**
   * Full forwards on wasm/cpu run attention as one fused kernel (flash-attention.ts) instead of
   * the composite ops; false turns that off for every model (set IRPO_FUSED_ATTENTION=0 for a process).
   */
  static fusedAttention = process.env['IRPO_FUSED_ATTENTION'] !== '0';
  /**
   * Training mode (PyTorch's module.train()): while true, forward() and forwardAt() apply the
   * attached adapter's dropout to its input. Off by default; scoring and generation never drop.
   */
  training = false;
  private adapter: AttachedLora | undefined;

  /** Takes ownership of `weights` (HF names → float32 tensors of the expected shapes). */
  constructor(
    readonly spec: ModelSpec,
    weights: Map<string, tf.Tensor>,
  ) {
    const shapes = expectedWeightShapes(spec);
    this.variables = new Map();
    for (const [name, shape] of shapes) {
      const t = weights.get(name);
      if (!t) throw new Error(`missing weight ${name}`);
      if (t.shape.join(',') !== shape.join(','))
        throw new Error(`weight ${name}: shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
      // Auto-named: tfjs variable names are global, and two models may live side by side.
      this.variables.set(name, tf.variable(t, true));
      t.dispose();
    }
    const w = (name: string): tf.Variable => this.variables.get(name)!;
    this.embed = w('model.embed_tokens.weight');
    this.finalNorm = w('model.norm.weight');
    this.head = spec.tieWordEmbeddings ? this.embed : w('lm_head.weight');
    this.layers = [];
    for (let i = 0; i < spec.numLayers; i++) {
      const p = `model.layers.${i}.`;
      this.layers.push({
        inputNorm: w(p + 'input_layernorm.weight'),
        postNorm: w(p + 'post_attention_layernorm.weight'),
        q: w(p + 'self_attn.q_proj.weight'),
        k: w(p + 'self_attn.k_proj.weight'),
        v: w(p + 'self_attn.v_proj.weight'),
        o: w(p + 'self_attn.o_proj.weight'),
        ...(spec.attentionBias
          ? { qBias: w(p + 'self_attn.q_proj.bias'), kBias: w(p + 'self_attn.k_proj.bias'), vBias: w(p + 'self_attn.v_proj.bias') }
          : {}),
        gate: w(p + 'mlp.gate_proj.weight'),
        up: w(p + 'mlp.up_proj.weight'),
        down: w(p + 'mlp.down_proj.weight'),
      });
    }
    this.invFreq = ropeInvFreq(spec);
    this.headDim = headDimOf(spec);
  }

  forward(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [b, t] = inputIds.shape;
      return tf.reshape(this.logits(this.hiddenStates(inputIds, attentionMask)), [b, t, this.spec.vocabSize]) as tf.Tensor3D;
    });
  }

  /**
   * Logits [N, V] at N flat positions (b·T + t) only: training scores response tokens, and the
   * head and softmax over every prompt and padding position are the largest tensors of its step.
   */
  forwardAt(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D | undefined, positions: tf.Tensor1D): tf.Tensor2D {
    return tf.tidy(() => {
      const [b, t] = inputIds.shape;
      const hidden = tf.reshape(this.hiddenStates(inputIds, attentionMask), [b * t, this.spec.hiddenSize]); // [B*T, H]
      return this.logits(tf.gather(hidden, tf.cast(positions, 'int32'))); // [N, V]
    });
  }

  /** Right-padded ids (every row from position 0, as HF without position_ids) → final hidden states [B,T,H]. */
  private hiddenStates(inputIds: tf.Tensor2D, attentionMask?: tf.Tensor2D): tf.Tensor3D {
    const [b, t] = inputIds.shape;
    const positions = tf.reshape(tf.range(0, t, 1, 'float32'), [1, t]) as tf.Tensor2D; // [1, T]
    const mask = attentionMask ? (tf.cast(attentionMask, 'float32') as tf.Tensor2D) : null; // [B, T]
    let attend: Attend;
    if (this.useFusedAttention(b, t)) attend = fusedAttend(mask);
    else {
      const causal = tf.linalg.bandPart(tf.ones([t, t]), -1, 0); // [T, T]
      const allowed = mask
        ? tf.mul(tf.reshape(causal, [1, t, t]), tf.reshape(mask, [b, 1, t])) // [B, T, T]
        : tf.reshape(causal, [1, t, t]); // [1, T, T]
      attend = { bias: tf.reshape(tf.mul(tf.sub(1, allowed), MASKED), [allowed.shape[0], 1, t, t]) as tf.Tensor4D }; // [B|1, 1, T, T]
    }
    const a = this.adapter;
    const dropoutSeed = this.training && a && a.config.dropout > 0 ? (a.seed + 1) * 1_000_003 + DROPOUT_SEED_STRIDE * a.calls++ : undefined;
    return this.run(inputIds, positions, attend, [], this.gradientCheckpointing, dropoutSeed);
  }

  /**
   * Whether full forwards (training, scoring) run attention as the fused kernel: on backends that
   * keep tensors on the host (wasm, cpu), where it beats the composite ops; tfjs-node keeps the
   * composite (its native matmuls). `LlamaModel.fusedAttention = false` (or IRPO_FUSED_ATTENTION=0)
   * turns it off, for comparisons.
   */
  private useFusedAttention(b: number, t: number): boolean {
    if (!LlamaModel.fusedAttention) return false;
    const backend = tf.getBackend();
    if (backend !== 'wasm' && backend !== 'cpu') return false;
    const { numHeads: heads, numKvHeads: kvHeads } = this.spec;
    return flashAttentionSupports({ b, t, heads, kvHeads, headDim: this.headDim });
  }

  prefill(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D, maxNewTokens: number): { logits: tf.Tensor2D; cache: KvCache } {
    const [b, t] = inputIds.shape;
    const out = tf.tidy(() => {
      const mask = tf.cast(attentionMask, 'float32'); // [B, T]
      // Left padding: a row's positions count its real tokens only (pads clamp to 0).
      const counts = tf.cumsum(mask, 1); // [B, T]
      const positions = tf.relu(tf.sub(counts, 1)) as tf.Tensor2D; // [B, T]
      const causal = tf.linalg.bandPart(tf.ones([t, t]), -1, 0); // [T, T]
      const allowed = tf.mul(tf.reshape(causal, [1, t, t]), tf.reshape(mask, [b, 1, t])); // [B, T, T]
      const bias = tf.reshape(tf.mul(tf.sub(1, allowed), MASKED), [b, 1, t, t]) as tf.Tensor4D; // [B, 1, T, T]
      const kv: [tf.Tensor4D, tf.Tensor4D][] = [];
      const hidden = this.run(inputIds, positions, { bias }, kv);
      const last = tf.reshape(tf.slice(hidden, [0, t - 1, 0], [b, 1, -1]), [b, this.spec.hiddenSize]); // [B, H]
      const next = tf.reshape(tf.slice(counts, [0, t - 1], [b, 1]), [b]) as tf.Tensor1D; // [B]
      return {
        logits: this.logits(last) as tf.Tensor2D,
        keys: kv.map((p) => p[0]),
        values: kv.map((p) => p[1]),
        mask: mask as tf.Tensor2D,
        next,
      };
    });
    const cache = LlamaKvCache.fromTensors(out.keys, out.values, out.mask, out.next, t + maxNewTokens);
    tf.dispose([...out.keys, ...out.values, out.mask, out.next]);
    return { logits: out.logits, cache };
  }

  /**
   * One token per row through every layer with the host-side cache: the weight matmuls and the
   * SwiGLU run on the backend; norms, RoPE, attention over the cache and the residuals run on
   * the host over [B, ·] rows, so a step launches ~10 kernels per layer instead of ~60 and
   * never copies the cache.
   */
  decode(tokens: tf.Tensor1D, kvCache: KvCache): tf.Tensor2D {
    if (!(kvCache instanceof LlamaKvCache)) throw new Error('decode: the cache must come from this model’s prefill');
    const cache = kvCache;
    const b = tokens.shape[0];
    if (b !== cache.batch) throw new Error(`decode: ${b} tokens for a cache of ${cache.batch} rows`);
    const { hiddenSize: h, rmsNormEps: eps, numHeads: nh } = this.spec;
    cache.reserve();
    const { cos, sin } = ropeRows(this.invFreq, cache.nextPositions);
    const buf = (name: string, width: number): Float32Array => this.scratch.get(name, b * width);
    const x = take(tf.gather(this.embed, tokens), buf('x', h)); // [B, H]
    const upload = (a: Float32Array, width: number): tf.Tensor2D => tf.tensor2d(a, [b, width]);
    /** input [B, width] through each of the layer's linears (+ bias, + adapter) into the buffers named by them. */
    const project = (input: Float32Array, width: number, layer: LayerWeights, projs: Proj[]): Float32Array[] => {
      const t = upload(input, width);
      const res = projs.map((p) => {
        const plain = !BIAS_OF[p] || !layer[BIAS_OF[p]];
        const y = plain && !this.adapter ? linear(t, layer[p]) : tf.tidy(() => this.linear(layer, p, t));
        return take(y, buf(p, y.shape[1]));
      });
      t.dispose();
      return res;
    };
    const norm = (weight: tf.Tensor): Float32Array => hostRmsNorm(x, hostView(weight).slice(), h, eps, buf('normed', h));
    const d = this.headDim;
    this.layers.forEach((layer, i) => {
      const [q, k, v] = project(norm(layer.inputNorm), h, layer, ['q', 'k', 'v']);
      const ctx = hostAttention(cache, i, q!, k!, v!, nh, cos, sin, buf('ctx', nh * d));
      addInPlace(x, project(ctx, nh * d, layer, ['o'])[0]!);
      // SwiGLU on the backend: its vectorised sigmoid beats Math.exp per element on the host.
      const normedT = upload(norm(layer.postNorm), h);
      addInPlace(
        x,
        take(
          tf.tidy(() => {
            const gate = this.linear(layer, 'gate', normedT);
            return this.linear(layer, 'down', tf.mul(tf.mul(gate, tf.sigmoid(gate)), this.linear(layer, 'up', normedT)));
          }),
          buf('down', h),
        ),
      );
      normedT.dispose();
    });
    for (let r = 0; r < b; r++) {
      cache.keyMask[r * cache.capacity + cache.length] = 1;
      cache.nextPositions[r]! += 1;
    }
    cache.length += 1;
    const finalT = upload(norm(this.finalNorm), h);
    const logits = tf.tidy(() => this.logits(finalT));
    finalT.dispose();
    return logits;
  }

  dispose(): void {
    if (this.adapter) this.detachLora();
    for (const v of this.variables.values()) v.dispose();
  }

  /**
   * What a training step differentiates: the adapter's A and B (by the names PEFT saves them
   * under, see loraTensorName) while one is attached, else every weight (`variables`).
   */
  get trainableVariables(): Map<string, tf.Variable> {
    return this.adapter ? this.adapter.variables : this.variables;
  }

  /** The attached adapter's config, or undefined. */
  get loraConfig(): LoraConfig | undefined {
    return this.adapter?.config;
  }

  /**
   * Attaches a fresh LoRA adapter (PEFT's default init): for each targeted linear W [out, in]
   * of every layer, A [r, in] ~ uniform(±1/sqrt(in)) (kaiming_uniform_ with a = sqrt(5)),
   * seeded and deterministic, and B [out, r] = 0, so the model equals the base until B moves.
   * Every forward then computes W x + (alpha / r) · B A x; the base weights stop being
   * trainable (their tf `trainable` flag is cleared until merge or detach).
   */
  attachLora(config: LoraConfigInput = {}, options: { seed?: number } = {}): void {
    if (this.adapter) throw new Error('attachLora: an adapter is already attached (mergeLora() or detachLora() it first)');
    const parsed = LoraConfigSchema.safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`attachLora: invalid LoRA config: ${fieldPath(issue.path)}: ${issue.message}`);
    }
    const cfg = parsed.data;
    const seed = options.seed ?? 0;
    const variables = new Map<string, tf.Variable>();
    const byLayer = new Map<LayerWeights, Partial<Record<Proj, LoraPair>>>();
    this.layers.forEach((layer, i) => {
      const pairs: Partial<Record<Proj, LoraPair>> = {};
      LORA_TARGET_MODULES.forEach((m, j) => {
        if (!cfg.targetModules.includes(m)) return;
        const p = PROJ_OF[m];
        const [rows, cols] = layer[p].shape as [number, number];
        const slot = i * 8 + j;
        const bound = 1 / Math.sqrt(cols);
        const a = tf.tidy(() => tf.variable(tf.randomUniform([cfg.r, cols], -bound, bound, 'float32', seed * 1_000_003 + slot), true));
        const b = tf.tidy(() => tf.variable(tf.zeros([rows, cfg.r]), true));
        pairs[p] = { a, b, slot };
        variables.set(loraTensorName(i, m, 'A'), a);
        variables.set(loraTensorName(i, m, 'B'), b);
      });
      byLayer.set(layer, pairs);
    });
    const frozen = [...this.variables.values()].filter((v) => v.trainable);
    for (const v of frozen) v.trainable = false;
    this.adapter = { config: cfg, scaling: cfg.alpha / cfg.r, byLayer, variables, seed, calls: 0, frozen };
  }

  /**
   * Folds the adapter into the base weights, W += (alpha / r) · B A for every target, and
   * detaches it: the model is a plain model again, saved as an ordinary HF checkpoint.
   */
  mergeLora(): void {
    const a = this.adapter;
    if (!a) throw new Error('mergeLora: no adapter is attached');
    tf.tidy(() => {
      for (const [layer, pairs] of a.byLayer) {
        for (const [p, pair] of Object.entries(pairs) as [Proj, LoraPair][]) {
          const w = layer[p];
          w.assign(tf.add(w, tf.mul(tf.matMul(pair.b, pair.a), a.scaling)));
        }
      }
    });
    this.detachLora();
  }

  /** Drops the adapter without merging it: the base model as it was, trainable again. */
  detachLora(): void {
    const a = this.adapter;
    if (!a) throw new Error('detachLora: no adapter is attached');
    for (const v of a.variables.values()) v.dispose();
    for (const v of a.frozen) v.trainable = true;
    this.adapter = undefined;
  }

  /** Embeds ids [B,T] and runs every block; pushes each layer's (k, v) onto `kvOut` (not when checkpointing). → [B,T,H]. */
  private run(
    ids: tf.Tensor2D,
    positions: tf.Tensor2D,
    attend: Attend,
    kvOut: [tf.Tensor4D, tf.Tensor4D][],
    checkpoint = false,
    dropoutSeed?: number,
  ): tf.Tensor3D {
    const [b, t] = ids.shape;
    const { hiddenSize: h, rmsNormEps: eps } = this.spec;
    const { cos, sin } = ropeTables(this.invFreq, positions); // [B|1, T, 1, d]
    const ctx: BlockContext = { b, t, cos, sin, attend, ...(dropoutSeed === undefined ? {} : { dropoutSeed }) };
    let x = tf.reshape(tf.gather(this.embed, tf.cast(ids, 'int32')), [b * t, h]) as tf.Tensor2D; // [B*T, H]
    for (const layer of this.layers) {
      if (checkpoint) {
        x = this.checkpointedBlock(layer, x, ctx);
        continue;
      }
      // A scope per layer frees its temporaries as soon as it ends (a gradient tape keeps what
      // the backward pass needs): without it a whole forward's intermediates live until the
      // caller's tidy ends, and small's train step overflowed the wasm heap.
      const out = tf.tidy(() => {
        const kv: [tf.Tensor4D, tf.Tensor4D][] = [];
        const y = this.block(layer, x, ctx, kv);
        return { x: y, kv: kv[0] };
      });
      x = out.x;
      if (out.kv) kvOut.push(out.kv); // (the fused attention keeps no k/v: only prefill asks for them)
    }
    return tf.reshape(rmsNorm(x, this.finalNorm, eps), [b, t, h]) as tf.Tensor3D;
  }

  /** One decoder block: x + attention(norm x), then + SwiGLU MLP(norm). [B*T, H] → [B*T, H]. */
  private block(layer: LayerWeights, x: tf.Tensor2D, ctx: BlockContext, kvOut: [tf.Tensor4D, tf.Tensor4D][]): tf.Tensor2D {
    const eps = this.spec.rmsNormEps;
    const normed = rmsNorm(x, layer.inputNorm, eps); // [B*T, H]
    const attn = this.attention(layer, normed, ctx, kvOut); // [B*T, H]
    const h1 = tf.add<tf.Tensor2D>(x, attn);
    const normed2 = rmsNorm(h1, layer.postNorm, eps); // [B*T, H]
    const gate = this.linear(layer, 'gate', normed2, ctx.dropoutSeed); // [B*T, I]
    const act = tf.mul<tf.Tensor2D>(tf.mul(gate, tf.sigmoid(gate)), this.linear(layer, 'up', normed2, ctx.dropoutSeed)); // [B*T, I] silu(gate)·up
    return tf.add<tf.Tensor2D>(h1, this.linear(layer, 'down', act, ctx.dropoutSeed)); // [B*T, H]
  }

  /**
   * The block as one taped op whose gradient recomputes it: the tape keeps the block's input
   * (and the RoPE tables and mask, saved because the recomputation needs them), not its
   * intermediates. The gradient differentiates the recomputed block w.r.t. its input and weights.
   */
  private checkpointedBlock(layer: LayerWeights, x: tf.Tensor2D, ctx: BlockContext): tf.Tensor2D {
    const { cos, sin, attend } = ctx;
    // The mask tensor (bias or key mask) is saved with the tables: the recomputation needs it.
    const maskTensor = 'bias' in attend ? attend.bias : attend.keyMask;
    // With an adapter the op's inputs are its A and B only: the base weights are frozen, and
    // leaving them out spares the backward pass their (large) weight gradients.
    const weights = this.adapter
      ? Object.values(this.adapter.byLayer.get(layer) ?? {}).flatMap((p) => [p.a, p.b])
      : (Object.values(layer) as tf.Variable[]);
    const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const save = args[args.length - 1] as tf.GradSaveFunc;
      const input = args[0] as tf.Tensor2D;
      save(maskTensor ? [input, cos, sin, maskTensor] : [input, cos, sin]);
      const value = tf.tidy(() => this.block(layer, input, ctx, []));
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xs, c, s, m] = saved as [tf.Tensor2D, tf.Tensor4D, tf.Tensor4D, tf.Tensor | undefined];
          // The weights are the same tensors the recomputed block reads, so the tape links them.
          // tfjs keeps one tape: a gradient taken inside the outer backward pass ends by
          // clearing it, and the outer pass then fails freeing its saved tensors. Put it back.
          const state = (tf.engine() as unknown as { state: { activeTape: unknown } }).state;
          const outerTape = state.activeTape;
          try {
            const keptAttend: Attend = 'bias' in attend ? { bias: m as tf.Tensor4D } : fusedAttend((m as tf.Tensor2D | undefined) ?? null);
            const kept = { ...ctx, cos: c, sin: s, attend: keptAttend };
            return tf.grads((xi: tf.Tensor) => this.block(layer, xi as tf.Tensor2D, kept, []))([xs, ...weights], dy);
          } finally {
            state.activeTape = outerTape;
          }
        },
      };
    });
    return op(x, ...weights) as tf.Tensor2D;
  }

  private attention(layer: LayerWeights, x: tf.Tensor2D, ctx: BlockContext, kvOut: [tf.Tensor4D, tf.Tensor4D][]): tf.Tensor2D {
    const { b, t, cos, sin, attend } = ctx;
    const { numHeads: nh, numKvHeads: nkv } = this.spec;
    const d = this.headDim;
    const rep = nh / nkv;
    const q = tf.reshape(this.linear(layer, 'q', x, ctx.dropoutSeed), [b, t, nh, d]) as tf.Tensor4D; // [B, T, nh, d]
    const k = tf.reshape(this.linear(layer, 'k', x, ctx.dropoutSeed), [b, t, nkv, d]) as tf.Tensor4D; // [B, T, nkv, d]
    const v = tf.reshape(this.linear(layer, 'v', x, ctx.dropoutSeed), [b, t, nkv, d]) as tf.Tensor4D; // [B, T, nkv, d]
    // Scale q before the score matmul: T·d multiplies instead of T·Tk.
    const qr = tf.mul(applyRope(q, cos, sin), 1 / Math.sqrt(d)); // [B, T, nh, d]
    if ('keyMask' in attend) {
      // The fused kernel reads the [B, T, heads, d] layout as it is: no transposes either way.
      const mixed = fusedCausalAttention(qr as tf.Tensor4D, applyRope(k, cos, sin), v, attend.keyMaskValues); // [B, T, nh, d]
      return this.linear(layer, 'o', tf.reshape(mixed, [b * t, nh * d]), ctx.dropoutSeed); // [B*T, H]
    }
    const { bias } = attend;
    const kh = tf.transpose(applyRope(k, cos, sin), [0, 2, 1, 3]) as tf.Tensor4D; // [B, nkv, T, d]
    const vh = tf.transpose(v, [0, 2, 1, 3]) as tf.Tensor4D; // [B, nkv, T, d]
    kvOut.push([kh, vh]);
    const tk = kh.shape[2];
    // Grouped-query attention without repeating k/v: head h = g·rep + r uses kv head g (HF repeat_kv),
    // so the rep query heads of a group are stacked along the query axis of one matmul.
    const qg = tf.reshape(tf.transpose(qr, [0, 2, 1, 3]), [b, nkv, rep * t, d]); // [B, nkv, rep*T, d]
    const scores = tf.reshape(tf.matMul(qg, kh, false, true), [b, nh, t, tk]); // [B, nh, T, Tk]
    const probs = tf.softmax(tf.add(scores, bias)); // [B, nh, T, Tk]
    const mixed = tf.matMul(tf.reshape(probs, [b, nkv, rep * t, tk]), vh); // [B, nkv, rep*T, d]
    const merged = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(mixed, [b, nh, t, d]), [0, 2, 1, 3]), [b * t, nh * d]); // [B*T, nh*d]
    return this.linear(layer, 'o', merged, ctx.dropoutSeed); // [B*T, H]
  }

  /**
   * One of the layer's linears on x [N, in]: x Wᵀ (+ bias), plus (alpha / r) · (drop(x) Aᵀ) Bᵀ
   * when an adapter targets it (dropout only with a seed, i.e. in a training forward). → [N, out].
   */
  private linear(layer: LayerWeights, p: Proj, x: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D {
    const biasKey = BIAS_OF[p];
    const y = linear(x, layer[p], biasKey ? layer[biasKey] : undefined);
    const a = this.adapter;
    const pair = a?.byLayer.get(layer)?.[p];
    if (!a || !pair) return y;
    const input = dropoutSeed === undefined ? x : (tf.dropout(x, a.config.dropout, undefined, dropoutSeed + pair.slot) as tf.Tensor2D);
    const low = tf.mul<tf.Tensor2D>(linear(input, pair.a), a.scaling); // [N, r]
    return tf.add<tf.Tensor2D>(y, linear(low, pair.b)); // [N, out]
  }

  /** Final hidden [N, H] (or [B,T,H]) → logits [N, V] through the (possibly tied) head. */
  private logits(hidden: tf.Tensor): tf.Tensor2D {
    const flat = tf.reshape(hidden, [-1, this.spec.hiddenSize]) as tf.Tensor2D; // [N, H]
    return tf.matMul(flat, this.head, false, true); // [N, V]
  }
}

/** x Wᵀ (+ b) with W in HF [out, in] layout. */
function linear(x: tf.Tensor2D, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor2D {
  const y = tf.matMul(x, weight as tf.Tensor2D, false, true) as tf.Tensor2D; // [N, out]
  return bias ? tf.add<tf.Tensor2D>(y, bias) : y;
}
