/**
 * @irpo/core: the method's maths on TensorFlow.js (sequence log-probs, DPO/IPO/NLL losses, AdamW,
 * schedules) and the backend choice. Every other package takes TensorFlow.js from here (`tf`), so
 * one version and one set of registered kernels and gradients serve the whole process. The wasm
 * runtime (threads, pool switch, heap guard, kernels) is @irpo/tfjs-wasm-node's; the few names
 * of it that other packages use are re-exported below.
 */
export * as tf from '@tensorflow/tfjs-core';
export { initBackend, wasmThreadCount, BACKEND_NAMES, type BackendChoice, type BackendName, type InitBackendOptions } from './runtime.js';
export { selectedLogProbs, sequenceLogProbs } from './losses/sequence-log-probs.js';
export { dpoLoss, logRatioMargin, preferenceMetrics, type DpoOptions, type LossOutput, type PairLogps } from './losses/dpo-loss.js';
export { ipoLoss } from './losses/ipo-loss.js';
export { nllLoss, type NllNormalization } from './losses/nll-loss.js';
export { dpoNll, readMetrics, type DpoNllOptions } from './losses/dpo-nll.js';
export { AdamW, defaultNoDecay, type AdamWOptions, type AdamWState } from './optim/adamw.js';
export { clipByGlobalNorm } from './optim/clip-by-global-norm.js';
export { lrSchedule, type LrScheduleOptions } from './optim/lr-schedule.js';
export { GradientAccumulator } from './optim/gradient-accumulator.js';
export type { NamedTensors } from './optim/named-tensors.js';
export { MAX_WASM_THREADS, WasmHeapError, setWeightCaching, wasmBinaryDir, wasmThreads } from '@irpo/tfjs-wasm-node';
