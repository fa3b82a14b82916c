import { availableParallelism } from 'node:os';

/** The onnxruntime-node module. */
export type Ort = typeof import('onnxruntime-node');

/** Whether ONNX Runtime loaded in this process, and why not when it did not. */
export type OrtStatus = { ok: true; ort: Ort; version: string } | { ok: false; reason: string };

let cached: Promise<OrtStatus> | undefined;

/**
 * Loads onnxruntime-node once per process. It is an optional dependency: npm drops it silently
 * where its install fails (a platform without its binaries), and its native binding can fail to
 * load; either way the status says why, for the caller to log and fall back on TensorFlow.js.
 * IRPO_ONNX=0 turns it off for a process (comparisons, or a broken native build). `importer`
 * replaces the import (tests); without it the result is cached.
 */
export function loadOrt(importer?: () => Promise<unknown>): Promise<OrtStatus> {
  if (process.env['IRPO_ONNX'] === '0') return Promise.resolve({ ok: false, reason: 'IRPO_ONNX=0 turns ONNX Runtime off' });
  const load = async (): Promise<OrtStatus> => {
    try {
      const mod = (await (importer ?? (() => import('onnxruntime-node')))()) as Ort & { default?: Ort };
      const ort = (mod.InferenceSession ? mod : mod.default) as Ort;
      if (!ort?.InferenceSession) return { ok: false, reason: 'onnxruntime-node loaded without an InferenceSession export' };
      return { ok: true, ort, version: ort.env.versions?.common ?? 'unknown' };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND')
        return { ok: false, reason: 'onnxruntime-node is not installed (npm drops this optional dependency where its install fails)' };
      return { ok: false, reason: `onnxruntime-node failed to load: ${err.message.split('\n')[0]}` };
    }
  };
  return importer ? load() : (cached ??= load());
}

/** Intra-op threads: the given count, else IRPO_THREADS (the CLI's --threads), else one per core. */
export function ortThreads(threads?: number): number {
  if (threads && threads > 0) return Math.floor(threads);
  const env = Number(process.env['IRPO_THREADS']);
  return Number.isInteger(env) && env > 0 ? env : availableParallelism();
}
