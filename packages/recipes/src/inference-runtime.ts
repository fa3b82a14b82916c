import { InputError, type EngineConfig } from '@irpo/contracts';
import { parameterCount, type CausalLM } from '@irpo/model';
import type { ModelSpec } from '@irpo/contracts';
import { loadOrt, type OnnxLlama } from '@irpo/onnx';
import type { StageContext } from './stages.js';

/** What runs the forward passes that do not train, and why. */
export interface RuntimeChoice {
  runtime: 'onnx' | 'tfjs';
  reason: string;
}

/**
 * engine.runtime resolved: auto takes ONNX Runtime when onnxruntime-node loads, else TensorFlow.js
 * (the reason says why: not installed, failed to load, IRPO_ONNX=0); onnx insists (InputError when
 * it does not load); tfjs never tries.
 */
export async function chooseRuntime(setting: EngineConfig['runtime']): Promise<RuntimeChoice> {
  if (setting === 'tfjs') return { runtime: 'tfjs', reason: 'engine.runtime: tfjs' };
  const ort = await loadOrt();
  if (ort.ok) return { runtime: 'onnx', reason: `onnxruntime-node ${ort.version} loaded (engine.runtime: ${setting})` };
  if (setting === 'onnx') throw new InputError('run config', undefined, 'engine.runtime', `onnx, but ${ort.reason}; use auto or tfjs`);
  return { runtime: 'tfjs', reason: `ONNX Runtime unavailable: ${ort.reason}` };
}

/** The line a command logs once: which runtime runs inference and why. */
export function runtimeLine(choice: RuntimeChoice): string {
  return choice.runtime === 'onnx' ? `inference on ONNX Runtime: ${choice.reason}` : `inference on TensorFlow.js: ${choice.reason}`;
}

const choices = new WeakMap<object, Promise<RuntimeChoice>>();

/** engine.runtime chosen once per stage context (logged then), e.g. once per run. */
export function stageRuntime(ctx: Pick<StageContext, 'config' | 'progress'>): Promise<RuntimeChoice> {
  let c = choices.get(ctx);
  if (!c) {
    c = chooseRuntime(ctx.config.engine.runtime).then((choice) => {
      ctx.progress.info(runtimeLine(choice));
      return choice;
    });
    choices.set(ctx, c);
  }
  return c;
}

/**
 * Below this many parameters, engine.runtime auto decodes on TensorFlow.js even where ONNX Runtime
 * loads. Measured (bench:compare, 2 cores, quiet): the bench's tiny model (922,752 parameters, parameterCount)
 * decodes at 6.9-7.3k tokens/s on TF.js's fused wasm kernels against 5.6-5.9k on the ONNX decode
 * graph, whose per-step overhead (a session run and the KV cache concatenated per step) dominates
 * at that size; the small one (30.5M) at 637 against 1188. The demo's model (0.34M) sampled in
 * 8-10 s per iteration on TF.js and 17-20 s on ONNX. Scoring has no per-step overhead: ONNX wins
 * at every size (reflogp 3.9x TF.js on tiny), so it is always used there.
 */
export const AUTO_ONNX_DECODE_MIN_PARAMS = 5_000_000;

/** Whether decoding goes to ONNX Runtime: always with engine.runtime onnx; with auto, for models of AUTO_ONNX_DECODE_MIN_PARAMS and more. */
export function decodeOnOnnx(setting: EngineConfig['runtime'], spec: ModelSpec): boolean {
  return setting === 'onnx' || parameterCount(spec) >= AUTO_ONNX_DECODE_MIN_PARAMS;
}

const saidSmall = new WeakSet<object>();

/**
 * What the local engine decodes with (`use: 'decode'`) or what scores reference log-probs
 * (`'score'`): the slot's model on ONNX Runtime (its weights as they are now, LoRA merged) when
 * the runtime is onnx, else the TensorFlow.js model itself. With engine.runtime auto a small model
 * decodes on TensorFlow.js (decodeOnOnnx), said once per context.
 */
export async function inferenceModel(
  ctx: Pick<StageContext, 'config' | 'progress' | 'slot'>,
  use: 'decode' | 'score',
): Promise<CausalLM | OnnxLlama> {
  const held = ctx.slot.current;
  if (!held) throw new Error('no model loaded');
  if ((await stageRuntime(ctx)).runtime !== 'onnx') return held.model;
  if (use === 'decode' && !decodeOnOnnx(ctx.config.engine.runtime, held.spec)) {
    if (!saidSmall.has(ctx)) {
      saidSmall.add(ctx);
      ctx.progress.info(
        `decoding on TensorFlow.js: a model of ${parameterCount(held.spec)} parameters decodes faster there than on ONNX Runtime (engine.runtime: onnx forces it); scoring stays on ONNX Runtime`,
      );
    }
    return held.model;
  }
  return ctx.slot.onnx();
}
