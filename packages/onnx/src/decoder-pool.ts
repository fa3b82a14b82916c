import { Worker } from 'node:worker_threads';
import type { ModelSpec } from '@irpo/contracts';
import { headDimOf, parameterCount } from '@irpo/model';
import type { DecoderReply, DecoderRequest, DecoderWorkerData } from './decoder-protocol.js';
import { CACHE_CHUNK } from './onnx-kv-cache.js';
import type { OnnxLlama } from './onnx-llama.js';

/**
 * Models up to this many float32 weights get one decoder per core by default (decoderLanes): each
 * worker holds its own copy of the weights, and below this size a decode step is too small for
 * ONNX Runtime's intra-op threads to share, so independent batches on separate cores use them
 * better (bench:pool: two one-thread workers against one two-thread session, about equal on the
 * bench's tiny shape, 1.07x small, 1.27x smollm, 1.65x the demo's sampling). Larger sizes were
 * not measured.
 */
export const POOL_MAX_PARAMS = 200e6;

/**
 * How many decoder threads a model gets by default: one per core (at most 8) for a model of up to
 * POOL_MAX_PARAMS parameters on the CPU, else 1 (a large model's matrices keep ONNX Runtime's
 * threads busy within one step, and copies of its weights would not fit).
 */
export function decoderLanes(spec: ModelSpec, threads: number, executionProviders: string[] = ['cpu']): number {
  if (executionProviders.some((p) => p !== 'cpu')) return 1;
  if (parameterCount(spec) > POOL_MAX_PARAMS) return 1;
  return Math.max(1, Math.min(8, threads));
}

export interface OnnxDecoderPoolOptions {
  /** Decoder threads (default decoderLanes: one per core for a small model). */
  workers?: number;
  /** Intra-op threads per decoder (default: the model's threads shared out, at least 1). */
  threadsPerWorker?: number;
  /**
   * Node flags of the worker threads (default: this process's). Running from TypeScript sources
   * needs a loader there (the tests pass tools/test-support/ts-loader.mjs).
   */
  execArgv?: string[];
  /** How long a worker may take to load the graph before the pool gives up on it (default 300 s). */
  startTimeoutS?: number;
}

/**
 * Several decode sessions of one model, each in its own worker thread, so that independent
 * batches decode at the same time: onnxruntime-node runs a session synchronously on the thread
 * that calls it, and a small model's step does not spread over intra-op threads. A batch stays on
 * the worker that prefilled it (its cache lives there); prefill picks the worker with the fewest
 * batches. It has the shape of @irpo/sampler's HostDecoder, with `lanes` batches at once: a
 * LocalEngine over it keeps that many in flight. Numerics are those of OnnxLlama's decode (the
 * same graph and host code), so results do not depend on the number of workers.
 */
export class OnnxDecoderPool {
  readonly lanes: number;

  private constructor(
    readonly spec: ModelSpec,
    private readonly workers: DecoderThread[],
    /** ONNX Runtime intra-op threads of each worker's session. */
    readonly threadsPerWorker: number,
  ) {
    this.lanes = workers.length;
  }

  /** Starts the workers (each loads the decode graph) and waits until every one is ready. */
  static async create(model: OnnxLlama, options: OnnxDecoderPoolOptions = {}): Promise<OnnxDecoderPool> {
    const { executionProviders } = model;
    const count = Math.max(1, Math.floor(options.workers ?? decoderLanes(model.spec, model.threads, executionProviders)));
    const bytes = model.graphBytes('decode');
    const graph = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
    graph.set(bytes);
    const data: DecoderWorkerData = {
      graph,
      threads: Math.max(1, Math.floor(options.threadsPerWorker ?? model.threads / count)),
      executionProviders,
      dims: { layers: model.spec.numLayers, kvHeads: model.spec.numKvHeads, headDim: headDimOf(model.spec) },
    };
    const workers = Array.from({ length: count }, (_, i) => new DecoderThread(i, data, options.execArgv, options.startTimeoutS ?? 300));
    const started = await Promise.allSettled(workers.map((w) => w.ready));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw failed.reason;
    }
    return new OnnxDecoderPool(model.spec, workers, data.threads);
  }

  /** As OnnxLlama.prefill, on the least busy worker; the cache stays there. */
  async prefill(
    inputIds: Int32Array,
    attentionMask: Int32Array,
    batch: number,
    length: number,
    maxNewTokens = CACHE_CHUNK,
  ): Promise<{ logits: Float32Array; cache: PooledKvCache }> {
    const worker = this.workers.reduce((a, b) => (b.batches < a.batches ? b : a));
    const cache = new PooledKvCache(worker, worker.newCacheId(), batch, length);
    worker.batches++;
    try {
      const reply = await worker.request({
        op: 'prefill',
        cache: cache.id,
        ids: inputIds,
        mask: attentionMask,
        batch,
        length,
        maxNewTokens,
      });
      return { logits: reply.logits!, cache };
    } catch (e) {
      cache.dispose();
      throw e;
    }
  }

  /** As OnnxLlama.decode, on the worker holding the cache. */
  async decode(tokens: Int32Array, cache: PooledKvCache): Promise<Float32Array> {
    if (!(cache instanceof PooledKvCache) || !this.workers.includes(cache.worker))
      throw new Error('OnnxDecoderPool.decode: the cache was not made by this pool');
    if (tokens.length !== cache.batch) throw new Error(`decode: ${tokens.length} tokens for a cache of ${cache.batch} rows`);
    const selected = cache.takePending();
    const decoded = cache.worker.request({ op: 'decode', cache: cache.id, tokens });
    if (selected) {
      decoded.catch(() => undefined); // the select's error is the one to report
      await selected;
    }
    const reply = await decoded;
    cache.length++;
    return reply.logits!;
  }

  /** Stops the workers; batches still decoding fail. */
  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * A batch's cache in a decoder worker, seen from the caller: sizes tracked here, the data there.
 * select is sent at once (requests reach the worker in order) and checked at the next decode.
 */
export class PooledKvCache {
  private pending: Promise<unknown> | undefined;
  private disposed = false;

  constructor(
    readonly worker: DecoderThread,
    readonly id: number,
    public batch: number,
    public length: number,
  ) {}

  select(rows: number[]): PooledKvCache {
    for (const r of rows)
      if (!(Number.isInteger(r) && r >= 0 && r < this.batch)) throw new RangeError(`select: row ${r} of a cache of ${this.batch}`);
    const previous = this.pending;
    const selected = this.worker.request({ op: 'select', cache: this.id, rows });
    this.pending = previous ? Promise.all([previous, selected]) : selected;
    this.pending.catch(() => undefined); // reported by the next decode
    this.batch = rows.length;
    return this;
  }

  /** The selects sent since the last decode, to wait for. */
  takePending(): Promise<unknown> | undefined {
    const p = this.pending;
    this.pending = undefined;
    return p;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.worker.batches--;
    this.worker.request({ op: 'dispose', cache: this.id }).catch(() => undefined);
  }
}

type Pending = { resolve: (r: DecoderReply) => void; reject: (e: Error) => void };
type RequestBody = DecoderRequest extends infer R ? (R extends DecoderRequest ? Omit<R, 'id'> : never) : never;

/** One worker thread and its requests in flight. */
class DecoderThread {
  readonly ready: Promise<void>;
  /** Batches (caches) it holds now. */
  batches = 0;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private nextCache = 1;
  private failure: Error | undefined;
  private stopping = false;

  constructor(
    readonly index: number,
    data: DecoderWorkerData,
    execArgv: string[] | undefined,
    startTimeoutS: number,
  ) {
    const here = import.meta.url;
    // From dist the worker is JavaScript; from the sources (tests, the bench) TypeScript, which the
    // worker's loader (execArgv) must handle.
    const entry = new URL(here.endsWith('.ts') ? './decoder-worker.ts' : './decoder-worker.js', here);
    this.worker = new Worker(entry, { workerData: data, ...(execArgv ? { execArgv } : {}) });
    this.ready = new Promise<void>((resolve, reject) => this.pending.set(0, { resolve: () => resolve(), reject }));
    // A worker that never says it is up (a hung load) must not hang the run: it fails, and the caller decodes on its own thread.
    const timer = setTimeout(
      () => this.fail(new Error(`ONNX Runtime decoder thread ${index} did not start within ${startTimeoutS} s`)),
      startTimeoutS * 1000,
    );
    timer.unref();
    this.ready.then(
      () => {
        clearTimeout(timer);
        this.worker.unref(); // idle, it does not keep the process alive
      },
      () => clearTimeout(timer),
    );
    this.worker.on('message', (r: DecoderReply) => this.settle(r));
    this.worker.on('error', (e: Error) => this.fail(new Error(`ONNX Runtime decoder thread ${index} failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.stopping) this.fail(new Error(`ONNX Runtime decoder thread ${index} exited (code ${code})`));
    });
  }

  newCacheId(): number {
    return this.nextCache++;
  }

  request(body: RequestBody): Promise<DecoderReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const reply = new Promise<DecoderReply>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...body, id } as DecoderRequest);
    return reply;
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    this.fail(new Error(`ONNX Runtime decoder thread ${this.index} was stopped`));
    await this.worker.terminate();
  }

  private settle(r: DecoderReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0 && r.id !== 0) this.worker.unref();
    if (r.error === undefined) p.resolve(r);
    else if (r.id !== 0) p.reject(new Error(r.error));
    else {
      this.failure ??= new Error(`ONNX Runtime decoder thread ${this.index} did not start: ${r.error}`);
      p.reject(this.failure);
    }
  }

  private fail(e: Error): void {
    this.failure ??= e;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(this.failure);
  }
}

/**
 * What a local engine should decode `model` with: its decoder threads when there are to be more
 * than one (options.workers, else decoderLanes) and they start; else the model itself on this
 * thread, and `onFallback` hears why the threads did not start.
 */
export async function decoderFor(
  model: OnnxLlama,
  options: OnnxDecoderPoolOptions = {},
  onFallback?: (reason: string) => void,
): Promise<OnnxLlama | OnnxDecoderPool> {
  const workers = options.workers ?? decoderLanes(model.spec, model.threads, model.executionProviders);
  if (workers <= 1) return model;
  try {
    return await OnnxDecoderPool.create(model, { ...options, workers });
  } catch (e) {
    onFallback?.(`decoding on one thread: the decoder threads did not start (${e instanceof Error ? e.message : String(e)})`);
    return model;
  }
}
