import { Worker } from 'node:worker_threads';
import { tf, wasmThreads } from '@irpo/core';
import { FLASH_ATTENTION_WASM_BASE64 } from './flash-attention-wasm.js';
import { hostView } from './host-decode.js';

/**
 * Causal attention as one fused WebAssembly SIMD kernel per direction (flash-attention.wat): for
 * every query row the scores of keys 0..i, their softmax and the mix of values in one pass, keeping
 * only each row's log Σ exp (lse); the backward pass recomputes the probabilities from q, k and
 * lse. Against the composite (two batched matmuls, a [B, H, T, T] bias add and softmax, their
 * gradients, three transposes) it does half the multiply-adds (the causal half only), makes no
 * per-entry matmul calls and keeps nothing of size T × T for the backward pass.
 *
 * The kernel works in its own memory: inputs are copied in and outputs out (memory-bound copies,
 * small next to the products), so it runs beside any tfjs backend that keeps tensors on the host.
 */

export interface AttentionShape {
  /** Batch rows, tokens per row, query heads, key/value heads (divides heads), head dim (any: padded to a multiple of 16 inside). */
  b: number;
  t: number;
  heads: number;
  kvHeads: number;
  headDim: number;
}

interface Exports {
  forward(q: number, k: number, v: number, mask: number, o: number, lse: number, ws: number, ...dimsAndUnits: number[]): void;
  backward(
    q: number,
    k: number,
    v: number,
    mask: number,
    o: number,
    lse: number,
    dO: number,
    dq: number,
    dk: number,
    dv: number,
    ws: number,
    ...dimsAndUnits: number[]
  ): void;
}

interface SharedMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Control words shared with the helper threads (Int32 indices). */
const GO = 0, // generation of the latest job (negative: exit)
  FN = 1, // 0 forward, 1 backward
  ARGS = 2, // the call's arguments (up to 18)
  DONE = 32, // per helper: the generation it finished
  READY = 48, // per helper: 1 once its instance is up
  FAILED = 64; // per helper: 1 when its call threw

/**
 * The kernels on one shared memory, run by this thread and by `threads - 1` helper threads (Node
 * worker_threads, each with its own instance on the same memory). A call splits its units into one
 * contiguous range per thread; a unit's arithmetic does not depend on the split, so results are
 * the same bits for any thread count.
 */
class FlashRuntime {
  readonly memory = new wasm.Memory({ initial: 1, maximum: 65536, shared: true });
  private readonly module: object;
  readonly ex: Exports;
  private readonly ctrl = new Int32Array(new SharedArrayBuffer(80 * 4));
  private helpers: Worker[] = [];
  private generation = 0;

  constructor() {
    const bytes = Uint8Array.from(atob(FLASH_ATTENTION_WASM_BASE64), (c) => c.charCodeAt(0));
    this.module = new wasm.Module(bytes);
    this.ex = new wasm.Instance(this.module, { env: { memory: this.memory, log: Math.log } }).exports as Exports;
  }

  /** The memory grown to at least `bytes`; a fresh f32 view of it. */
  view(bytes: number): Float32Array {
    const need = bytes - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return new Float32Array(this.memory.buffer);
  }

  /**
   * Helper threads for `threads` in all (started once, kept, unref'd so they never hold the
   * process); how many threads can run now. A helper counts once it has said it is up: a thread
   * starting needs this one's event loop, so waiting for it here could deadlock, and until then
   * calls run with fewer threads (same results).
   */
  private ensureHelpers(threads: number): number {
    const want = Math.min(threads, 16) - 1;
    while (this.helpers.length < want) {
      const w = new Worker(HELPER_SOURCE, {
        eval: true,
        workerData: { memory: this.memory, module: this.module, ctrl: this.ctrl, index: this.helpers.length },
      });
      // A helper that cannot start never says it is up: calls go on without it.
      w.on('error', (e: Error) => process.stderr.write(`flash attention: a helper thread stopped: ${e.message}\n`));
      w.unref();
      this.helpers.push(w);
    }
    let ready = 0;
    while (ready < want && Atomics.load(this.ctrl, READY + ready) === 1) ready++;
    return ready + 1;
  }

  /** Starts the helpers for `threads` and resolves once they are all up (or after `timeoutMs`); → threads usable. */
  async warmUp(threads: number, timeoutMs: number): Promise<number> {
    const end = Date.now() + timeoutMs;
    let n = this.ensureHelpers(threads);
    while (n < Math.min(threads, 16) && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 5));
      n = this.ensureHelpers(threads);
    }
    return n;
  }

  /**
   * fn over units [0, units): this thread takes the first range, each helper one of the others.
   * `args(ws, from, to)` gives the call's arguments for a workspace and a unit range.
   */
  run(
    fn: 0 | 1,
    units: number,
    threads: number,
    wsBase: number,
    wsBytes: number,
    args: (ws: number, from: number, to: number) => number[],
  ): void {
    const n = units < 2 ? 1 : Math.min(this.ensureHelpers(threads), units);
    const bounds = Array.from({ length: n + 1 }, (_, t) => Math.round((t * units) / n));
    const call = fn === 0 ? this.ex.forward : this.ex.backward;
    if (n === 1) {
      call(...(args(wsBase, 0, units) as [number, number, number, number, number, number, number]));
      return;
    }
    const gen = ++this.generation;
    // One argument block for all: each helper derives its range and workspace from its index.
    const shared = args(wsBase, 0, 0); // dims and pointers common to every range
    this.ctrl[FN] = fn;
    shared.forEach((x, i) => (this.ctrl[ARGS + i] = x));
    this.ctrl[ARGS + 20] = n;
    this.ctrl[ARGS + 21] = units;
    this.ctrl[ARGS + 22] = wsBase;
    this.ctrl[ARGS + 23] = wsBytes;
    Atomics.store(this.ctrl, GO, gen);
    Atomics.notify(this.ctrl, GO);
    call(...(args(wsBase, bounds[0]!, bounds[1]!) as [number, number, number, number, number, number, number]));
    for (let t = 1; t < n; t++) {
      for (;;) {
        const done = Atomics.load(this.ctrl, DONE + t - 1);
        if (done === gen) break;
        Atomics.wait(this.ctrl, DONE + t - 1, done);
      }
      if (this.ctrl[FAILED + t - 1]) throw new Error('flash attention: a helper thread failed (see its message on stderr)');
    }
  }
}

/**
 * A helper thread: waits for a generation, runs its range (thread t of n takes units
 * [round(t·U/n), round((t+1)·U/n)) with workspace wsBase + t·wsBytes), reports it done.
 */
const HELPER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { memory, module, ctrl, index } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory, log: Math.log } }).exports;
const [GO, FN, ARGS, DONE, READY, FAILED] = [${GO}, ${FN}, ${ARGS}, ${DONE}, ${READY}, ${FAILED}];
let seen = Atomics.load(ctrl, GO);
Atomics.store(ctrl, READY + index, 1);
for (;;) {
  Atomics.wait(ctrl, GO, seen);
  const gen = Atomics.load(ctrl, GO);
  if (gen < 0) break;
  if (gen === seen) continue;
  seen = gen;
  try {
    const t = index + 1, n = ctrl[ARGS + 20], units = ctrl[ARGS + 21], wsBase = ctrl[ARGS + 22], wsBytes = ctrl[ARGS + 23];
    const from = Math.round((t * units) / n), to = Math.round(((t + 1) * units) / n);
    if (t >= n) {
      // a call that uses fewer threads than there are helpers: nothing for this one
    } else if (ctrl[FN] === 0) {
      const a = Array.from(ctrl.subarray(ARGS, ARGS + 12));
      a[6] = wsBase + t * wsBytes;
      ex.forward(...a, from, to);
    } else {
      const a = Array.from(ctrl.subarray(ARGS, ARGS + 16));
      a[10] = wsBase + t * wsBytes;
      ex.backward(...a, from, to);
    }
    ctrl[FAILED + index] = 0;
  } catch (e) {
    ctrl[FAILED + index] = 1;
    process.stderr.write('flash attention helper: ' + (e && e.stack || e) + '\\n');
  }
  Atomics.store(ctrl, DONE + index, gen);
  Atomics.notify(ctrl, DONE + index);
}
`;

let runtime: FlashRuntime | undefined;
function flash(): FlashRuntime {
  runtime ??= new FlashRuntime();
  return runtime;
}

/**
 * Starts the kernel's helper threads (`threads` in all, this one included) and resolves, with the
 * number of threads calls can now use, once they are up. Optional: calls start them themselves and
 * use them from the first call after they are up.
 */
export function flashAttentionWarmUp(threads = kernelThreads(), timeoutMs = 10_000): Promise<number> {
  return flash().warmUp(threads, timeoutMs);
}

/** Whether the fused kernel takes this shape (else the caller uses the composite ops). */
export function flashAttentionSupports(s: AttentionShape): boolean {
  return s.headDim > 0 && s.heads % s.kvHeads === 0 && s.b > 0 && s.t > 0;
}

/** Lays out named float arrays in the kernel's memory (16-byte aligned). */
class Layout {
  next = 0;
  readonly at: Record<string, number> = {};
  add(name: string, floats: number): this {
    this.at[name] = this.next;
    this.next += Math.ceil(floats / 4) * 16;
    return this;
  }
}

function sizes(s: AttentionShape) {
  const tp = Math.ceil(s.t / 16) * 16;
  // The kernel works on head dims that are multiples of 16; others are zero-padded up to one (a
  // zero dim adds nothing to q·k, and the padded outputs are dropped).
  const dp = Math.ceil(s.headDim / 16) * 16;
  return {
    dp,
    qRows: s.b * s.t * s.heads,
    kvRows: s.b * s.t * s.kvHeads,
    qFloats: s.b * s.t * s.heads * dp,
    kvFloats: s.b * s.t * s.kvHeads * dp,
    rows: s.b * s.t * s.heads,
    // Per thread: kT and vT [d, Tp], the bias, p and ds rows [Tp], the causal tails [16, 16].
    wsBytes: (2 * dp * tp + 3 * tp + 256) * 4,
  };
}

function check(s: AttentionShape, name: string, a: Float32Array, floats: number): void {
  if (a.length !== floats) throw new Error(`flash attention: ${name} has ${a.length} floats, expected ${floats} for ${JSON.stringify(s)}`);
}

/** Copies `rows` rows of d floats into the memory at `at` as rows of dp floats (zero-padded). */
function putRows(f32: Float32Array, at: number, src: Float32Array, rows: number, d: number, dp: number): void {
  const base = at / 4;
  if (d === dp) {
    f32.set(src, base);
    return;
  }
  for (let r = 0; r < rows; r++) {
    f32.set(src.subarray(r * d, r * d + d), base + r * dp);
    f32.fill(0, base + r * dp + d, base + (r + 1) * dp);
  }
}

/** Rows of dp floats at `at` as rows of d floats: a view when d = dp, else compacted in place (rows only move down). */
function getRows(f32: Float32Array, at: number, rows: number, d: number, dp: number): Float32Array {
  const base = at / 4;
  if (d !== dp) for (let r = 1; r < rows; r++) f32.copyWithin(base + r * d, base + r * dp, base + r * dp + d);
  return f32.subarray(base, base + rows * d);
}

/** Key mask [B, T] (not 0: attend) or all keys valid. */
function writeMask(f32: Float32Array, at: number, s: AttentionShape, mask: Float32Array | null): void {
  if (mask) {
    check(s, 'mask', mask, s.b * s.t);
    f32.set(mask, at / 4);
  } else f32.fill(1, at / 4, at / 4 + s.b * s.t);
}

/** Threads the kernels use: the wasm backend's pool size (its --threads / IRPO_THREADS), else 1. */
function kernelThreads(): number {
  return tf.getBackend() === 'wasm' ? wasmThreads() : 1;
}

/**
 * Lays out q, k, v, the mask, then `extra` named arrays and the threads' workspaces in the
 * kernel's memory (grown as needed), and copies q, k, v (padded to dp) and the mask in.
 */
function place<E extends string>(
  s: AttentionShape,
  z: ReturnType<typeof sizes>,
  inputs: { q: Float32Array; k: Float32Array; v: Float32Array; mask: Float32Array | null },
  extra: [E, number][],
  threads: number,
) {
  check(s, 'q', inputs.q, z.qRows * s.headDim);
  check(s, 'k', inputs.k, z.kvRows * s.headDim);
  check(s, 'v', inputs.v, z.kvRows * s.headDim);
  const rt = flash();
  const L = new Layout()
    .add('q', z.qFloats)
    .add('k', z.kvFloats)
    .add('v', z.kvFloats)
    .add('mask', s.b * s.t);
  for (const [name, floats] of extra) L.add(name, floats);
  L.add('ws', 0);
  const at = L.at as Record<'q' | 'k' | 'v' | 'mask' | 'ws' | E, number>;
  const f32 = rt.view(L.next + Math.min(threads, 16) * z.wsBytes);
  putRows(f32, at.q, inputs.q, z.qRows, s.headDim, z.dp);
  putRows(f32, at.k, inputs.k, z.kvRows, s.headDim, z.dp);
  putRows(f32, at.v, inputs.v, z.kvRows, s.headDim, z.dp);
  writeMask(f32, at.mask, s, inputs.mask);
  /** The kernels' trailing arguments: workspace, dims, unit range. */
  const tail = (ws: number, from: number, to: number) => [ws, s.b, s.t, s.heads, s.kvHeads, z.dp, from, to];
  return { rt, f32, at, tail };
}

/**
 * o [B, T, H, d] = softmax(q·kᵀ over keys ≤ i, masked) · v, and lse [B, T, H]. q is already
 * scaled. The results are views of the kernel's memory, valid until its next call.
 */
export function flashForward(
  s: AttentionShape,
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  mask: Float32Array | null,
  threads = kernelThreads(),
): { o: Float32Array; lse: Float32Array } {
  const z = sizes(s);
  const extra: ['o' | 'lse', number][] = [
    ['o', z.qFloats],
    ['lse', z.rows],
  ];
  const { rt, f32, at, tail } = place(s, z, { q, k, v, mask }, extra, threads);
  rt.run(0, s.b * s.heads, threads, at.ws, z.wsBytes, (ws, from, to) => [at.q, at.k, at.v, at.mask, at.o, at.lse, ...tail(ws, from, to)]);
  return { o: getRows(f32, at.o, z.qRows, s.headDim, z.dp), lse: f32.subarray(at.lse / 4, at.lse / 4 + z.rows) };
}

/** Gradients of flashForward's o w.r.t. q, k, v, given dO and the forward's o and lse (views, as flashForward's). */
export function flashBackward(
  s: AttentionShape,
  saved: { q: Float32Array; k: Float32Array; v: Float32Array; mask: Float32Array | null; o: Float32Array; lse: Float32Array },
  dO: Float32Array,
  threads = kernelThreads(),
): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const z = sizes(s);
  check(s, 'dO', dO, z.qRows * s.headDim);
  check(s, 'lse', saved.lse, z.rows);
  const extra: ['o' | 'lse' | 'dO' | 'dq' | 'dk' | 'dv', number][] = [
    ['o', z.qFloats],
    ['lse', z.rows],
    ['dO', z.qFloats],
    ['dq', z.qFloats],
    ['dk', z.kvFloats],
    ['dv', z.kvFloats],
  ];
  const { rt, f32, at, tail } = place(s, z, saved, extra, threads);
  putRows(f32, at.o, saved.o, z.qRows, s.headDim, z.dp);
  f32.set(saved.lse, at.lse / 4);
  putRows(f32, at.dO, dO, z.qRows, s.headDim, z.dp);
  f32.fill(0, at.dk / 4, at.ws / 4); // dk and dv accumulate
  rt.run(1, s.b * s.kvHeads, threads, at.ws, z.wsBytes, (ws, from, to) => [
    ...[at.q, at.k, at.v, at.mask, at.o, at.lse, at.dO, at.dq, at.dk, at.dv],
    ...tail(ws, from, to),
  ]);
  return {
    dq: getRows(f32, at.dq, z.qRows, s.headDim, z.dp),
    dk: getRows(f32, at.dk, z.kvRows, s.headDim, z.dp),
    dv: getRows(f32, at.dv, z.kvRows, s.headDim, z.dp),
  };
}

/**
 * Causal attention as a tfjs op with its own gradient: q [B, T, H, d] (RoPE applied, scaled by
 * 1/√d), k and v [B, T, Hkv, d], keyMask [B, T] as a tensor or its values (not 0: attend;
 * padding keys 0) or null → [B, T, H, d]. The same values as softmax(q·kᵀ + causal/padding bias)·v (grouped-query heads as
 * Hugging Face's repeat_kv) for every query row with at least one key to attend to; a row with
 * none gives 0 (the composite gives a uniform mix there; such rows are padding and reach no loss).
 */
export function fusedCausalAttention(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  keyMask: tf.Tensor2D | Float32Array | null,
): tf.Tensor4D {
  const [b, t, heads, headDim] = q.shape;
  const s: AttentionShape = { b, t, heads, kvHeads: k.shape[2], headDim };
  const maskData = keyMask instanceof tf.Tensor ? (keyMask.dataSync() as Float32Array) : keyMask;
  // Inputs are read in place (wasm heap or cpu arrays: no copy); outputs leave the kernel's memory
  // as one copy into a tensor (wasm copies on creation; cpu keeps the array it is given, so it
  // gets its own).
  const own = tf.getBackend() === 'wasm' ? (x: Float32Array) => x : (x: Float32Array) => x.slice();
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [qi, ki, vi] = args as tf.Tensor4D[];
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const { o, lse } = flashForward(s, hostView(qi!), hostView(ki!), hostView(vi!), maskData);
    const out = tf.tensor4d(own(o), [b, t, heads, headDim]);
    save([qi!, ki!, vi!, out, tf.tensor1d(own(lse))]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, so, sl] = saved as tf.Tensor[];
        const g = flashBackward(
          s,
          { q: hostView(sq!), k: hostView(sk!), v: hostView(sv!), mask: maskData, o: hostView(so!), lse: hostView(sl!) },
          hostView(dy),
        );
        return [tf.tensor4d(own(g.dq), q.shape), tf.tensor4d(own(g.dk), k.shape), tf.tensor4d(own(g.dv), v.shape)];
      },
    };
  });
  return op(q, k, v) as tf.Tensor4D;
}
