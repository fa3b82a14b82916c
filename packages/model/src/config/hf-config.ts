import { z } from 'zod';
import { InputError, ModelSpecSchema, issueToInputError, type ModelSpec } from '@irpo/contracts';

/** Architectures this package runs; each maps onto the one Llama-family decoder. */
export const SUPPORTED_ARCHITECTURES = ['LlamaForCausalLM', 'Qwen2ForCausalLM', 'MistralForCausalLM'] as const;

const TokenId = z.number().int().nonnegative();

/** The fields of a Hugging Face `config.json` that shape the decoder; others pass through. */
export const HfConfigSchema = z
  .object({
    architectures: z.array(z.string()).min(1),
    vocab_size: z.number().int().positive(),
    hidden_size: z.number().int().positive(),
    intermediate_size: z.number().int().positive(),
    num_hidden_layers: z.number().int().positive(),
    num_attention_heads: z.number().int().positive(),
    num_key_value_heads: z.number().int().positive().optional(),
    head_dim: z.number().int().positive().nullish(),
    max_position_embeddings: z.number().int().positive().default(2048),
    rope_theta: z.number().positive().default(10000),
    rope_scaling: z
      .object({
        rope_type: z.string().optional(),
        type: z.string().optional(),
        factor: z.number().positive().optional(),
        low_freq_factor: z.number().positive().optional(),
        high_freq_factor: z.number().positive().optional(),
        original_max_position_embeddings: z.number().int().positive().optional(),
      })
      .passthrough()
      .nullish(),
    rms_norm_eps: z.number().positive().default(1e-6),
    tie_word_embeddings: z.boolean().default(false),
    attention_bias: z.boolean().optional(),
    mlp_bias: z.boolean().optional(),
    hidden_act: z.string().default('silu'),
    sliding_window: z.number().int().nullish(),
    use_sliding_window: z.boolean().optional(),
    bos_token_id: TokenId.nullish(),
    eos_token_id: z.union([TokenId, z.array(TokenId)]).nullish(),
    pad_token_id: TokenId.nullish(),
  })
  .passthrough();
export type HfConfig = z.output<typeof HfConfigSchema>;

/** Maps a parsed `config.json` to a ModelSpec; `file` names the source in errors. */
export function specFromHfConfig(json: unknown, file = 'config.json'): ModelSpec {
  // The architecture first: another family's config (GPT-2's n_embd, n_layer...) would otherwise
  // fail on the first Llama field it lacks, which says nothing about why.
  const declared = z.object({ architectures: z.array(z.string()).min(1) }).safeParse(json);
  if (!declared.success) throw issueToInputError(file, undefined, declared.error);
  const arch = declared.data.architectures[0]!;
  if (!(SUPPORTED_ARCHITECTURES as readonly string[]).includes(arch)) {
    throw new InputError(
      file,
      undefined,
      'architectures',
      `architecture ${arch} is not supported (supported: ${SUPPORTED_ARCHITECTURES.join(', ')})`,
    );
  }
  const parsed = HfConfigSchema.safeParse(json);
  if (!parsed.success) throw issueToInputError(file, undefined, parsed.error);
  const c = parsed.data;
  if (c.hidden_act !== 'silu')
    throw new InputError(file, undefined, 'hidden_act', `activation ${c.hidden_act} is not supported (only silu)`);
  if (c.mlp_bias) throw new InputError(file, undefined, 'mlp_bias', 'MLP biases are not supported');
  // Mistral configs carry a window; it only changes attention past the window, so refuse it unless off.
  const slidingOn = arch === 'Qwen2ForCausalLM' ? c.use_sliding_window === true : c.sliding_window != null;
  if (slidingOn && c.sliding_window != null && c.sliding_window < c.max_position_embeddings) {
    throw new InputError(file, undefined, 'sliding_window', 'sliding-window attention is not supported');
  }
  let ropeScaling: ModelSpec['ropeScaling'] = null;
  if (c.rope_scaling) {
    const type = c.rope_scaling.rope_type ?? c.rope_scaling.type;
    const rs = c.rope_scaling;
    if (type === 'default') ropeScaling = null;
    else if (type !== 'llama3' || !rs.factor || !rs.low_freq_factor || !rs.high_freq_factor || !rs.original_max_position_embeddings) {
      throw new InputError(
        file,
        undefined,
        'rope_scaling',
        `rope scaling ${type ?? '(no type)'} is not supported (only llama3 with factor, low_freq_factor, high_freq_factor, original_max_position_embeddings)`,
      );
    } else {
      ropeScaling = {
        ropeType: 'llama3',
        factor: rs.factor,
        lowFreqFactor: rs.low_freq_factor,
        highFreqFactor: rs.high_freq_factor,
        originalMaxPositions: rs.original_max_position_embeddings,
      };
    }
  }
  const spec = ModelSpecSchema.safeParse({
    architecture: arch,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads: c.num_key_value_heads ?? c.num_attention_heads,
    headDim: c.head_dim ?? undefined,
    maxPositions: c.max_position_embeddings,
    ropeTheta: c.rope_theta,
    ropeScaling,
    rmsNormEps: c.rms_norm_eps,
    tieWordEmbeddings: c.tie_word_embeddings,
    // Qwen2 always has q/k/v biases; its configs do not say so.
    attentionBias: arch === 'Qwen2ForCausalLM' ? true : (c.attention_bias ?? false),
    bosTokenId: c.bos_token_id ?? null,
    eosTokenId: c.eos_token_id ?? null,
    padTokenId: c.pad_token_id ?? null,
  });
  if (!spec.success) throw issueToInputError(file, undefined, spec.error);
  return spec.data;
}

/** Per-head size: explicit, else hiddenSize / numHeads. */
export function headDimOf(spec: ModelSpec): number {
  return spec.headDim ?? Math.floor(spec.hiddenSize / spec.numHeads);
}

/** A `config.json` other tools (transformers, vLLM, llama.cpp converters) read. */
export function hfConfigFromSpec(spec: ModelSpec, torchDtype: 'float32' | 'bfloat16' | 'float16' = 'float32'): Record<string, unknown> {
  const modelType = { LlamaForCausalLM: 'llama', Qwen2ForCausalLM: 'qwen2', MistralForCausalLM: 'mistral' }[spec.architecture];
  const out: Record<string, unknown> = {
    architectures: [spec.architecture],
    model_type: modelType,
    vocab_size: spec.vocabSize,
    hidden_size: spec.hiddenSize,
    intermediate_size: spec.intermediateSize,
    num_hidden_layers: spec.numLayers,
    num_attention_heads: spec.numHeads,
    num_key_value_heads: spec.numKvHeads,
    head_dim: headDimOf(spec),
    hidden_act: 'silu',
    max_position_embeddings: spec.maxPositions,
    rope_theta: spec.ropeTheta,
    rope_scaling: spec.ropeScaling && {
      rope_type: 'llama3',
      factor: spec.ropeScaling.factor,
      low_freq_factor: spec.ropeScaling.lowFreqFactor,
      high_freq_factor: spec.ropeScaling.highFreqFactor,
      original_max_position_embeddings: spec.ropeScaling.originalMaxPositions,
    },
    rms_norm_eps: spec.rmsNormEps,
    tie_word_embeddings: spec.tieWordEmbeddings,
    bos_token_id: spec.bosTokenId,
    eos_token_id: spec.eosTokenId,
    pad_token_id: spec.padTokenId,
    torch_dtype: torchDtype,
  };
  if (spec.architecture === 'LlamaForCausalLM') {
    out.attention_bias = spec.attentionBias;
    out.mlp_bias = false;
  }
  if (spec.architecture === 'Qwen2ForCausalLM') out.use_sliding_window = false;
  if (spec.architecture === 'MistralForCausalLM') out.sliding_window = null;
  return out;
}
