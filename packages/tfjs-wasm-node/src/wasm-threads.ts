import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { firstLoadAddress, poolSwitch, type PoolSwitch } from './pool-switch.js';

/**
 * The wasm backend with XNNPACK's thread pool, in Node.
 *
 * tfjs-backend-wasm ships a threaded+SIMD binary but never loads it in Node (its
 * WASM_HAS_MULTITHREAD_SUPPORT flag answers false there: tfjs issue 3830). Three things stand
 * in the way, and this module deals with each:
 * 1. tfjs hands Emscripten the pthread worker script as a `blob:` URL, which Node's
 *    worker_threads cannot start: the script (the package's `wasmWorkerContents`) is written
 *    once to a file in the OS temp folder and Emscripten is pointed at it.
 * 2. The binary caps its pool at half the logical cores (`emscripten_num_logical_cores() / 2`,
 *    read once at start-up), so a 2-vCPU machine gets 1 thread: the import is answered with
 *    twice the thread count asked for, which makes the cap exactly that count.
 * 3. Emscripten refreshes `Module.HEAPU8` & co. only on the thread that grows the memory; the
 *    backend (and this package's kernels) read those views from the main thread, so they are made
 *    accessors that re-create the views when the shared buffer has grown.
 * Pool threads are `unref`ed so they never keep a finished process alive, and Emscripten's
 * pre-spawned spare workers (8) beyond the pool are terminated.
 */

const require = createRequire(import.meta.url);

/** The parts of the WebAssembly API used here (Node has it; the project's TS libs omit it). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: object };
}
interface SharedMemory {
  readonly buffer: ArrayBufferLike;
}
const webAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The binary pre-spawns 8 workers and caps its pool there. */
export const MAX_WASM_THREADS = 8;

interface EmscriptenWorker {
  unref(): void;
  terminate(): Promise<number> | void;
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...a: number[]) => number;
  wasmMemory: SharedMemory;
  PThread: { unusedWorkers: EmscriptenWorker[]; runningWorkers: EmscriptenWorker[] };
  tfjs?: unknown;
  [view: string]: unknown;
}

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

const HEAP_VIEWS: Record<string, new (b: ArrayBufferLike) => ArrayBufferView> = {
  HEAP8: Int8Array,
  HEAPU8: Uint8Array,
  HEAP16: Int16Array,
  HEAPU16: Uint16Array,
  HEAP32: Int32Array,
  HEAPU32: Uint32Array,
  HEAPF32: Float32Array,
  HEAPF64: Float64Array,
};

/**
 * Threads for the pool: `requested`, else the cores Node may use; at most MAX_WASM_THREADS.
 * A requested count that is not a whole number ≥ 1 is a RangeError.
 */
export function wasmThreadCount(requested?: number): number {
  let n = requested;
  if (n === undefined) n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`threads: expected a whole number ≥ 1, got ${n}`);
  return Math.min(n, MAX_WASM_THREADS);
}

function packageDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
}

/** Writes Emscripten's pthread worker script to a file Node can start (once per content). */
function workerScriptFile(): string {
  const contents = (
    require(path.join(packageDir(), 'wasm-out', 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
      wasmWorkerContents: string;
    }
  ).wasmWorkerContents;
  // The package stores the script in a template literal, so its "\n" escapes arrived as real
  // newlines, some of them inside string literals; put the escapes back as tfjs itself does.
  const script = contents.replace(/\n/g, '\\n');
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `tfjs-wasm-node-pthread-${hash}.cjs`);
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, script);
    fs.renameSync(tmp, file);
  }
  return file;
}

/** Makes Module.HEAP* always views of the current (possibly grown) shared memory. */
function liveHeapViews(module: ThreadedModule): void {
  for (const [name, View] of Object.entries(HEAP_VIEWS)) {
    let view = module[name] as ArrayBufferView | undefined;
    Object.defineProperty(module, name, {
      configurable: true,
      get() {
        const buffer = module.wasmMemory.buffer;
        if (!view || view.buffer !== buffer) view = new View(buffer);
        return view;
      },
      set(v: ArrayBufferView) {
        view = v;
      },
    });
  }
}

async function instantiateThreaded(threads: number): Promise<ThreadedModule> {
  const dir = packageDir();
  const mainScript = path.join(dir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
  const binary = path.join(dir, 'dist', 'tfjs-backend-wasm-threaded-simd.wasm');
  const worker = workerScriptFile();
  const factory = require(mainScript) as Factory;
  // Compiled up front so that a bad binary rejects here; Emscripten's instantiateWasm hook
  // then instantiates synchronously (a throw there rejects the factory's promise).
  const bytes = fs.readFileSync(binary);
  const compiled = await webAssembly.compile(bytes);
  poolSlot = firstLoadAddress(bytes, 'get_threads_count');
  const config: Record<string, unknown> = {
    locateFile: (file: string) =>
      file.endsWith('.worker.js') ? worker : file.endsWith('.wasm') ? binary : path.join(dir, 'wasm-out', file),
    // Each pool worker evaluates this script itself (Node's importScripts shim reads a path).
    mainScriptUrlOrBlob: mainScript,
    instantiateWasm: (info: { env: Record<string, unknown> }, receive: (instance: { exports: object }, module: object) => void) => {
      info.env.emscripten_num_logical_cores = () => 2 * threads;
      // Emscripten has pre-spawned 8 workers and would now load the module into each (~40 MB
      // and ~0.3 s apiece); the pool needs threads - 1 (the calling thread is one of them).
      const spare = (config as unknown as ThreadedModule).PThread?.unusedWorkers;
      if (spare) for (const w of spare.splice(Math.max(0, threads - 1))) void w.terminate();
      const instance = new webAssembly.Instance(compiled, info);
      receive(instance, compiled);
      return instance.exports;
    },
  };
  // With MODULARIZE the config object becomes the Module (so PThread is on it by now).
  const module = await factory(config);
  liveHeapViews(module);
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** Address of the backend's thread-pool pointer in the threaded binary (see pool-switch.ts). */
let poolSlot: number | null = null;
let activeSwitch: PoolSwitch | null = null;

/** The running threaded backend's pool switch, or null (single-threaded, or not verified). */
export function currentPoolSwitch(): PoolSwitch | null {
  return activeSwitch;
}

/** After the backend created its pool: let the process exit; set up the small-op switch. */
function settlePool(module: ThreadedModule, threads: number): void {
  for (const w of module.PThread.runningWorkers) w.unref();
  const getThreadsCount = (module.tfjs as { getThreadsCount: () => number }).getThreadsCount;
  activeSwitch = poolSwitch(poolSlot, () => module['HEAP32'] as Int32Array, getThreadsCount, threads);
}

export interface ThreadedWasmInfo {
  /** Threads in XNNPACK's pool (what the backend reports once initialised). */
  threads: number;
  /** Whether small ops run without the pool (the switch verified itself; see pool-switch.ts). */
  smallOpsSequential: boolean;
}

/**
 * Registers the 'wasm' backend with the threaded binary and `threads` pool threads (≥ 2;
 * for 1 the stock single-threaded registration is better: no workers at all). The returned
 * object's `threads` is filled in when the backend initialises. A failure to start rejects
 * `tf.setBackend('wasm')`, so the caller can fall back.
 */
export async function registerThreadedWasm(threads: number): Promise<ThreadedWasmInfo> {
  const wasmPkg = (await import('@tensorflow/tfjs-backend-wasm')) as unknown as {
    BackendWasm: new (module: ThreadedModule) => tf.KernelBackend;
    setThreadsCount(n: number): void;
    getThreadsCount(): number;
  };
  const info: ThreadedWasmInfo = { threads: 0, smallOpsSequential: false };
  wasmPkg.setThreadsCount(threads);
  // (tf.findBackend would initialise the stock backend: look at the registry instead.)
  if (tf.engine().registryFactory.wasm) tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await instantiateThreaded(threads);
      const backend = new wasmPkg.BackendWasm(module);
      settlePool(module, threads);
      info.threads = wasmPkg.getThreadsCount();
      info.smallOpsSequential = activeSwitch !== null;
      return backend;
    },
    2,
  );
  return info;
}
