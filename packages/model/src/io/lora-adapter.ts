import { join } from 'node:path';
import { tf } from '@irpo/core';
import { InputError, LORA_TARGET_MODULES, writeJsonAtomic, type LoraConfig, type LoraTargetModule } from '@irpo/contracts';
import type { LlamaModel } from '../llama/llama-model.js';
import { loraTensorShapes } from '../llama/lora.js';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors.js';
import { exists, readJson } from './json-file.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';

export interface SaveLoraAdapterOptions {
  /** Written as base_model_name_or_path: the HF id or directory of the base model. */
  baseModelPath: string | null;
  /** Stored dtype of the adapter tensors: F32 (default, exact) or BF16. */
  dtype?: 'F32' | 'BF16';
}

/** adapter_config.json as PEFT writes it for a LoRA adapter of a causal LM (keys sorted, as PEFT sorts them). */
export function peftAdapterConfig(config: LoraConfig, baseModelPath: string | null): Record<string, unknown> {
  return {
    alpha_pattern: {},
    base_model_name_or_path: baseModelPath,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layers_to_transform: null,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    modules_to_save: null,
    peft_type: 'LORA',
    r: config.r,
    rank_pattern: {},
    revision: null,
    target_modules: LORA_TARGET_MODULES.filter((m) => config.targetModules.includes(m)),
    task_type: 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/**
 * Writes the attached adapter in PEFT's layout: `adapter_config.json` and
 * `adapter_model.safetensors` with tensors named as PEFT saves them
 * (`base_model.model.model.layers.<i>.self_attn.q_proj.lora_A.weight` [r, in], `…lora_B.weight` [out, r]),
 * so `PeftModel.from_pretrained(base, dir)` loads it.
 */
export async function saveLoraAdapter(dir: string, model: LlamaModel, options: SaveLoraAdapterOptions): Promise<void> {
  const config = model.loraConfig;
  if (!config) throw new Error('saveLoraAdapter: the model has no LoRA adapter attached');
  const tensors = new Map<string, NamedTensor>();
  for (const [name, v] of model.trainableVariables) tensors.set(name, { shape: v.shape, data: (await v.data()) as Float32Array });
  await writeSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, options.dtype ?? 'F32');
  await writeJsonAtomic(join(dir, ADAPTER_CONFIG_FILE), peftAdapterConfig(config, options.baseModelPath));
}

export interface LoadedLoraAdapter {
  config: LoraConfig;
  /** base_model_name_or_path of adapter_config.json (null when absent). */
  baseModelPath: string | null;
}

/**
 * Reads a PEFT LoRA adapter directory onto `model` (which must have none attached): validates
 * adapter_config.json (refusing what this model cannot apply: DoRA, rsLoRA, per-module ranks or
 * alphas, biases, fan_in_fan_out, extra saved modules, layer subsets, regex or unknown targets)
 * and every tensor's name and shape against the base, then attaches the adapter with them.
 */
export async function loadLoraAdapter(dir: string, model: LlamaModel): Promise<LoadedLoraAdapter> {
  if (model.loraConfig)
    throw new Error('loadLoraAdapter: the model already has an adapter attached (detachLora() or mergeLora() it first)');
  const configFile = join(dir, ADAPTER_CONFIG_FILE);
  const { config, baseModelPath } = parsePeftAdapterConfig(await readJson(configFile, 'a PEFT adapter directory'), configFile);
  const weightsFile = join(dir, ADAPTER_WEIGHTS_FILE);
  if (!(await exists(weightsFile))) {
    const bin = await exists(join(dir, 'adapter_model.bin'));
    throw new InputError(
      weightsFile,
      undefined,
      undefined,
      bin ? 'missing; adapter_model.bin (a pickle) is not supported, save the adapter with safe_serialization=True' : 'missing',
    );
  }
  const tensors = await readSafetensors(weightsFile);
  const expected = loraTensorShapes(model.spec, config);
  for (const [name, t] of tensors) {
    const want = expected.get(name);
    if (!want) {
      throw new InputError(
        weightsFile,
        undefined,
        name,
        `unexpected tensor: adapter_config.json targets ${config.targetModules.join(', ')} on a base with ${model.spec.numLayers} layers`,
      );
    }
    if (t.shape.join(',') !== want.join(',')) {
      const isA = name.endsWith('.lora_A.weight');
      const rank = isA ? t.shape[0] : t.shape[1];
      const why =
        t.shape.length === 2 && rank !== config.r
          ? `rank ${rank} differs from adapter_config.json r = ${config.r}`
          : 'the base model has different layer sizes';
      throw new InputError(weightsFile, undefined, name, `shape [${t.shape.join(', ')}], expected [${want.join(', ')}]: ${why}`);
    }
  }
  for (const [name, shape] of expected) {
    if (!tensors.has(name)) throw new InputError(weightsFile, undefined, name, `tensor is missing (expected shape [${shape.join(', ')}])`);
  }
  model.attachLora(config);
  for (const [name, v] of model.trainableVariables) {
    const t = tensors.get(name)!;
    tf.tidy(() => v.assign(tf.tensor(t.data, t.shape, 'float32')));
  }
  return { config, baseModelPath };
}

/** PEFT fields this model cannot honour, with the value that means "not used". */
const UNSUPPORTED: [field: string, unused: (v: unknown) => boolean, problem: string][] = [
  ['use_dora', (v) => v === false, 'DoRA adapters are not supported (must be false)'],
  ['use_rslora', (v) => v === false, 'rank-stabilised LoRA (scaling alpha/sqrt(r)) is not supported (must be false)'],
  ['fan_in_fan_out', (v) => v === false, 'fan_in_fan_out (Conv1D-style [in, out] weights) is not supported (must be false)'],
  ['bias', (v) => v === 'none', 'trained biases are not supported (must be "none")'],
  ['lora_bias', (v) => v === false, 'a bias on lora_B is not supported (must be false)'],
  ['rank_pattern', isEmptyObject, 'per-module ranks are not supported (must be {})'],
  ['alpha_pattern', isEmptyObject, 'per-module alphas are not supported (must be {})'],
  ['modules_to_save', isEmptyList, 'fully trained extra modules are not supported (must be null)'],
  ['layers_to_transform', isEmptyList, 'adapting a subset of layers is not supported (must be null)'],
  ['layer_replication', isEmptyList, 'layer replication is not supported (must be null)'],
  ['target_parameters', isEmptyList, 'adapting parameters directly is not supported (must be null)'],
  ['trainable_token_indices', isEmptyList, 'trainable token embeddings are not supported (must be null)'],
  ['exclude_modules', isEmptyList, 'exclude_modules is not supported (must be null)'],
];

function isEmptyObject(v: unknown): boolean {
  return v === null || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}

function isEmptyList(v: unknown): boolean {
  return v === null || (Array.isArray(v) && v.length === 0);
}

/** A PEFT adapter_config.json → LoraConfig; absent optional fields take PEFT's defaults. */
export function parsePeftAdapterConfig(json: unknown, file: string): LoadedLoraAdapter {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InputError(file, undefined, undefined, 'not a JSON object');
  const c = json as Record<string, unknown>;
  const fail = (field: string, problem: string): never => {
    throw new InputError(file, undefined, field, problem);
  };
  if (c.peft_type !== 'LORA') fail('peft_type', `${JSON.stringify(c.peft_type)} is not a LoRA adapter (expected "LORA")`);
  for (const [field, unused, problem] of UNSUPPORTED) {
    if (field in c && !unused(c[field])) fail(field, `${JSON.stringify(c[field])}: ${problem}`);
  }
  const r = c.r ?? 8;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) fail('r', `${JSON.stringify(r)} is not a positive integer`);
  const alpha = c.lora_alpha ?? 8;
  if (typeof alpha !== 'number' || !(alpha > 0)) fail('lora_alpha', `${JSON.stringify(alpha)} is not a positive number`);
  const dropout = c.lora_dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1)) fail('lora_dropout', `${JSON.stringify(dropout)} is not in [0, 1)`);
  let targets: LoraTargetModule[];
  const tm = c.target_modules;
  if (tm === 'all-linear') targets = [...LORA_TARGET_MODULES];
  else if (typeof tm === 'string') targets = fail('target_modules', `the pattern ${JSON.stringify(tm)} is not supported: list the modules`);
  else if (!Array.isArray(tm) || tm.length === 0) targets = fail('target_modules', 'missing or empty');
  else {
    targets = [];
    for (const m of tm) {
      if (!(LORA_TARGET_MODULES as readonly unknown[]).includes(m)) {
        fail('target_modules', `unknown target module ${JSON.stringify(m)} (supported: ${LORA_TARGET_MODULES.join(', ')})`);
      }
      if (!targets.includes(m as LoraTargetModule)) targets.push(m as LoraTargetModule);
    }
  }
  const base = c.base_model_name_or_path;
  return {
    config: { r: r as number, alpha: alpha as number, dropout: dropout as number, targetModules: targets },
    baseModelPath: typeof base === 'string' ? base : null,
  };
}
