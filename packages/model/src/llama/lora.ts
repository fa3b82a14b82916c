import { LORA_TARGET_MODULES, type LoraConfig, type LoraTargetModule, type ModelSpec } from '@irpo/contracts';
import { expectedWeightShapes } from './weight-names.js';

/** Where each target module sits in a decoder layer (Hugging Face module paths). */
export const LORA_MODULE_PATHS: Record<LoraTargetModule, string> = {
  q_proj: 'self_attn.q_proj',
  k_proj: 'self_attn.k_proj',
  v_proj: 'self_attn.v_proj',
  o_proj: 'self_attn.o_proj',
  gate_proj: 'mlp.gate_proj',
  up_proj: 'mlp.up_proj',
  down_proj: 'mlp.down_proj',
};

/**
 * The name PEFT saves an adapter matrix under in adapter_model.safetensors (the PeftModel
 * prefix `base_model.model.`, the HF module path, then `lora_A`/`lora_B` without the adapter
 * name, which PEFT strips on save): e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`.
 */
export function loraTensorName(layer: number, module: LoraTargetModule, which: 'A' | 'B'): string {
  return `base_model.model.model.layers.${layer}.${LORA_MODULE_PATHS[module]}.lora_${which}.weight`;
}

/** The Hugging Face name of the base weight a target module adapts. */
export function baseWeightName(layer: number, module: LoraTargetModule): string {
  return `model.layers.${layer}.${LORA_MODULE_PATHS[module]}.weight`;
}

/** Every adapter tensor of `config` on a `spec` model, in layer then LORA_TARGET_MODULES order: A [r, in], B [out, r]. */
export function loraTensorShapes(spec: ModelSpec, config: LoraConfig): Map<string, number[]> {
  const base = expectedWeightShapes(spec);
  const out = new Map<string, number[]>();
  for (let i = 0; i < spec.numLayers; i++) {
    for (const m of LORA_TARGET_MODULES) {
      if (!config.targetModules.includes(m)) continue;
      const [rows, cols] = base.get(baseWeightName(i, m))! as [number, number];
      out.set(loraTensorName(i, m, 'A'), [config.r, cols]);
      out.set(loraTensorName(i, m, 'B'), [rows, config.r]);
    }
  }
  return out;
}
