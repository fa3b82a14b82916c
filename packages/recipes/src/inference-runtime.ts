import { InputError, type EngineConfig } from '@irpo/contracts';
import type { CausalLM } from '@irpo/model';
import { loadOrt, OnnxDecoderPool, OnnxLlama } from '@irpo/onnx';
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
 * What the local engine decodes with and what scores reference log-probs: the slot's model on ONNX Runtime (its weights as they are now, LoRA merged) when
 * the runtime is onnx, else the TensorFlow.js model itself. Decoding and scoring go to ONNX
 * Runtime at every model size: its decode graph reads the host's KV cache in place and runs ORT's
 * fused kernels, measured faster than TensorFlow.js's even on the demo's 0.34M-parameter model.
 */
export async function inferenceModel(ctx: Pick<StageContext, 'config' | 'progress' | 'slot'>): Promise<CausalLM | OnnxLlama> {
  const held = ctx.slot.current;
  if (!held) throw new Error('no model loaded');
  if ((await stageRuntime(ctx)).runtime !== 'onnx') return held.model;
  return ctx.slot.onnx();
}

/** The line said once when decoding runs in decoder threads. */
export function decoderLine(pool: OnnxDecoderPool): string {
  const t = pool.threadsPerWorker;
  return `decoding in ${pool.lanes} ONNX Runtime threads, one batch each (${t} intra-op thread${t > 1 ? 's' : ''} each)`;
}

/**
 * What the local engine decodes with: as inferenceModel, but on ONNX Runtime the slot's decoder
 * threads (one per core for a small model, so batches decode side by side; ModelSlot.onnxDecoder).
 */
export async function inferenceDecoder(
  ctx: Pick<StageContext, 'config' | 'progress' | 'slot'>,
): Promise<CausalLM | OnnxLlama | OnnxDecoderPool> {
  const model = await inferenceModel(ctx);
  if (!(model instanceof OnnxLlama)) return model;
  const decoder = await ctx.slot.onnxDecoder((reason) => ctx.progress.info(reason));
  if (decoder instanceof OnnxDecoderPool && !saidLanes.has(ctx)) {
    saidLanes.add(ctx);
    ctx.progress.info(decoderLine(decoder));
  }
  return decoder;
}

const saidLanes = new WeakSet<object>();
