import type { ModelSpec } from '@irpo/contracts';
import { headDimOf } from '../config/hf-config.js';

/** Every tensor of a checkpoint in Hugging Face names and shapes ([out, in] for linears), in file order. */
export function expectedWeightShapes(spec: ModelSpec): Map<string, number[]> {
  const { hiddenSize: h, intermediateSize: inter, vocabSize: vocab, numHeads: nh, numKvHeads: nkv } = spec;
  const d = headDimOf(spec);
  const m = new Map<string, number[]>();
  m.set('model.embed_tokens.weight', [vocab, h]);
  for (let i = 0; i < spec.numLayers; i++) {
    const p = `model.layers.${i}.`;
    m.set(p + 'input_layernorm.weight', [h]);
    m.set(p + 'self_attn.q_proj.weight', [nh * d, h]);
    m.set(p + 'self_attn.k_proj.weight', [nkv * d, h]);
    m.set(p + 'self_attn.v_proj.weight', [nkv * d, h]);
    if (spec.attentionBias) {
      m.set(p + 'self_attn.q_proj.bias', [nh * d]);
      m.set(p + 'self_attn.k_proj.bias', [nkv * d]);
      m.set(p + 'self_attn.v_proj.bias', [nkv * d]);
    }
    m.set(p + 'self_attn.o_proj.weight', [h, nh * d]);
    m.set(p + 'post_attention_layernorm.weight', [h]);
    m.set(p + 'mlp.gate_proj.weight', [inter, h]);
    m.set(p + 'mlp.up_proj.weight', [inter, h]);
    m.set(p + 'mlp.down_proj.weight', [h, inter]);
  }
  m.set('model.norm.weight', [h]);
  if (!spec.tieWordEmbeddings) m.set('lm_head.weight', [vocab, h]);
  return m;
}
