import * as tf from '@tensorflow/tfjs-core';
// The union package's Node bundle registers every op's gradient and the chained ops
// (tfjs-core's own Node bundle ships neither, and its ESM files do not load in Node).
import '@tensorflow/tfjs';
import { createLogger, UsageError } from '@irpo/contracts';
import { registerWasmKernels, setupWasmBackend, wasmThreadCount as threadCount, type WasmSetup } from '@irpo/tfjs-wasm-node';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  name: BackendName;
  /** The package that provides it (e.g. `@tensorflow/tfjs-node-gpu`). */
  provider: string;
  /** Why this backend, and why each better one was skipped. */
  reasons: string[];
  /** Kernels registered for this backend by @irpo/tfjs-wasm-node (missing or faster than the stock ones). */
  kernels: string[];
}

const log = createLogger('core');
let lastLogged = '';

/** Hint printed when the native backend is absent: its install downloads libtensorflow. */
const NATIVE_HINT =
  'install @tensorflow/tfjs-node (or -node-gpu) 4.22.0; its install downloads libtensorflow, ' +
  'set TFJS_NODE_BASE_URI to a mirror if the default host refuses';

type Probe = { ok: true; detail?: string } | { ok: false; why: string };

function isNotFound(e: unknown, pkg: string): boolean {
  const err = e as { code?: string; message?: string };
  return (err.code === 'ERR_MODULE_NOT_FOUND' || err.code === 'MODULE_NOT_FOUND') && String(err.message).includes(pkg);
}

/**
 * Loads one of the native packages. They register the 'tensorflow' backend on import; the
 * import fails with "not found" when the optional install was skipped, or with a dlopen error
 * when the package is there but its libtensorflow addon is not.
 */
async function probeNative(pkg: string): Promise<Probe> {
  try {
    // A variable specifier keeps TypeScript (and bundlers) from resolving an optional package.
    const specifier: string = pkg;
    await import(specifier);
  } catch (e) {
    if (isNotFound(e, pkg)) return { ok: false, why: `${pkg}: not installed` };
    const msg = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    return { ok: false, why: `${pkg}: native addon missing or broken (${msg})` };
  }
  if (!tf.findBackend('tensorflow')) return { ok: false, why: `${pkg}: loaded but registered no 'tensorflow' backend` };
  return { ok: true };
}

async function useTensorflow(reasons: string[]): Promise<string | null> {
  const gpu = await probeNative('@tensorflow/tfjs-node-gpu');
  let provider: string | null = null;
  if (gpu.ok) provider = '@tensorflow/tfjs-node-gpu';
  else {
    reasons.push(gpu.why);
    const cpu = await probeNative('@tensorflow/tfjs-node');
    if (cpu.ok) provider = '@tensorflow/tfjs-node';
    else reasons.push(cpu.why);
  }
  if (!provider) return null;
  if (!(await tf.setBackend('tensorflow'))) {
    reasons.push(`${provider}: the 'tensorflow' backend failed to initialise`);
    return null;
  }
  const onGpu = (tf.backend() as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
  if (provider.endsWith('-gpu') && !onGpu) reasons.push(`${provider}: no GPU device in use, TensorFlow runs on the CPU`);
  reasons.push(`tensorflow: chosen (${provider}${onGpu ? ', GPU' : ', CPU'})`);
  return provider;
}

/** What a full wasm heap tells irpo's users to change (the end of WasmHeapError's message). */
const HEAP_FULL_HINT =
  'Use smaller batches (training.batchSize with training.gradAccum for the same effective batch, engine.batchSize), ' +
  'training.gradientCheckpointing: true, or the tensorflow backend (tfjs-node)';

/**
 * Threads for the wasm backend: `requested`, else IRPO_THREADS, else the cores Node may use;
 * at most 8 (MAX_WASM_THREADS). A bad value is a UsageError naming where it came from.
 */
export function wasmThreadCount(requested?: number): number {
  const env = process.env.IRPO_THREADS;
  let n = requested;
  if (n === undefined && env !== undefined && env !== '') {
    n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`IRPO_THREADS: expected a whole number ≥ 1, got '${env}'`);
  }
  try {
    return threadCount(n);
  } catch (e) {
    if (e instanceof RangeError) throw new UsageError(e.message);
    throw e;
  }
}

/** The wasm runtime (threads, pool switch, heap guard, kernels) is @irpo/tfjs-wasm-node's. */
async function useWasm(reasons: string[], threads: number | undefined): Promise<boolean> {
  let setup: WasmSetup;
  try {
    setup = await setupWasmBackend({ threads: wasmThreadCount(threads), heapFullHint: HEAP_FULL_HINT });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    reasons.push(`wasm: failed to initialise (${e instanceof Error ? e.message : String(e)})`);
    return false;
  }
  reasons.push(`wasm: chosen (SIMD ${setup.simd ? 'on' : 'off'}, ${setup.threadsNote})`);
  return true;
}

async function useCpu(reasons: string[]): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu');
  await tf.ready();
  // The cpu backend prints a multi-line "install tfjs-node" banner on its first tensor; the
  // backend choice (with that advice) is already logged here, so silence it.
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
  reasons.push('cpu: chosen (pure JavaScript; slowest)');
}

function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new UsageError(`${source}: unknown backend '${value}' (expected one of ${BACKEND_NAMES.join(', ')})`);
}

export interface InitBackendOptions {
  /**
   * Threads for the wasm backend (default IRPO_THREADS, else the cores Node may use; at most
   * 8). Fixed by the first initialisation in a process.
   */
  threads?: number;
}

/**
 * Initialises TensorFlow.js and returns the choice: `requested`, else IRPO_BACKEND, else the
 * best present (tfjs-node-gpu, tfjs-node, wasm, cpu). A requested backend that cannot start
 * throws UsageError (one line; the CLI exits 2). Safe to call again: it re-selects.
 */
export async function initBackend(requested?: BackendName, options: InitBackendOptions = {}): Promise<BackendChoice> {
  const env = process.env.IRPO_BACKEND;
  const name = requested ?? (env ? parseBackendName(env, 'IRPO_BACKEND') : undefined);
  const reasons: string[] = [];
  let choice: BackendChoice | null = null;

  if (name === undefined || name === 'tensorflow') {
    const provider = await useTensorflow(reasons);
    if (provider) choice = { name: 'tensorflow', provider, reasons, kernels: [] };
    else if (name === 'tensorflow') {
      throw new UsageError(`backend 'tensorflow' is unavailable: ${reasons.join('; ')}; ${NATIVE_HINT}, or use --backend wasm`);
    }
  }
  if (!choice && (name === undefined || name === 'wasm')) {
    if (await useWasm(reasons, options.threads)) choice = { name: 'wasm', provider: '@tensorflow/tfjs-backend-wasm', reasons, kernels: [] };
    else if (name === 'wasm') throw new UsageError(`backend 'wasm' is unavailable: ${reasons.join('; ')}`);
  }
  if (!choice) {
    await useCpu(reasons);
    choice = { name: 'cpu', provider: '@tensorflow/tfjs-backend-cpu', reasons, kernels: [] };
  }
  if (name) reasons.unshift(`${name}: requested${requested ? '' : ' by IRPO_BACKEND'}`);
  choice.kernels = registerWasmKernels(choice.name);
  const line = `backend ${choice.name} (${choice.provider}); ${reasons.join('; ')}`;
  // Tests and long runs call this repeatedly; say it once per distinct choice.
  if (line !== lastLogged) log.info(line);
  lastLogged = line;
  return choice;
}
