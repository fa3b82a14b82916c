/**
 * Threads only for the ops that pay for them.
 *
 * tfjs's wasm backend hands every XNNPACK op its one thread pool. For small ops (a decode
 * step's [32, 128]·[128, 128] products, sigmoids over [32, 344]) waking and joining the pool
 * costs more than the second thread saves: measured per call, 28 → 37 µs for that matmul and
 * 10 → 20 µs for that sigmoid, so tiny's decoding ran ~7% slower on 2 threads than on one, while
 * training's large products ran up to 2x faster. With the switch (4 runs each, tiny sample):
 * 1 thread 11.3k tokens/s, 2 threads 10.6k, 2 threads with every product pooled 10.1k; tiny
 * train 6.4–6.5k → 6.6k tokens/s. The backend keeps the pool in one C global
 * (`tfjs::backend::threadpool`) and XNNPACK runs sequentially when it is null, so a small op
 * runs with that global set to 0 and the pool is put back after it.
 *
 * The global's address is read from the binary itself: `get_threads_count` starts with
 * `i32.const ADDR; i32.load offset=OFF` of it. Before use, the switch checks itself against the
 * running module: with the global cleared `get_threads_count()` must answer -1 (no pool), and
 * with it restored the pool's size. Anything unexpected leaves the pool always on.
 */

/**
 * Products under this many multiply-adds run without the pool: tiny's decode products (0.5–2.1 M)
 * and training's per-entry attention products (0.5 M); small's and SmolLM2's decode products
 * (mostly 2.6–11 M, where 2 threads made decoding 1.4–1.5x faster) keep it.
 */
export const POOL_MIN_MACS = 1 << 22;
/** Other ops whose largest input has fewer elements run without it (decode's are ~11 K). */
export const POOL_MIN_ELEMENTS = 1 << 16;

function leb(b: Uint8Array, at: number, signed: boolean): [number, number] {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = b[at++]!;
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  if (signed && byte & 0x40) result -= 2 ** shift;
  return [result, at];
}

/**
 * The linear-memory address that the exported function `name` loads first, if its body starts
 * (after its locals) with `i32.const A; i32.load align offset`; otherwise null.
 */
export function firstLoadAddress(wasm: Uint8Array, name: string): number | null {
  if (wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) return null;
  const sections = new Map<number, [number, number]>();
  for (let at = 8; at < wasm.length;) {
    const id = wasm[at++]!;
    const [size, start] = leb(wasm, at, false);
    if (!sections.has(id)) sections.set(id, [start, size]);
    at = start + size;
  }
  const imports = sections.get(2);
  const exports = sections.get(7);
  const code = sections.get(10);
  if (!exports || !code) return null;
  // Imported functions come first in the function index space.
  let importedFunctions = 0;
  if (imports) {
    let [count, at] = leb(wasm, imports[0], false);
    for (; count > 0; count--) {
      for (let s = 0; s < 2; s++) {
        const [len, next] = leb(wasm, at, false);
        at = next + len;
      }
      const kind = wasm[at++]!;
      if (kind === 0) {
        at = leb(wasm, at, false)[1];
        importedFunctions++;
      } else if (kind === 1 || kind === 2) {
        if (kind === 1) at++; // element type
        const flags = wasm[at++]!;
        at = leb(wasm, at, false)[1];
        if (flags & 1) at = leb(wasm, at, false)[1];
      } else if (kind === 3) {
        at += 2; // value type, mutability
      } else return null;
    }
  }
  let fn = -1;
  {
    let [count, at] = leb(wasm, exports[0], false);
    for (; count > 0 && fn < 0; count--) {
      const [len, next] = leb(wasm, at, false);
      const exported = new TextDecoder().decode(wasm.subarray(next, next + len));
      const kind = wasm[next + len]!;
      const [index, after] = leb(wasm, next + len + 1, false);
      if (kind === 0 && exported === name) fn = index - importedFunctions;
      at = after;
    }
  }
  if (fn < 0) return null;
  const [count, first] = leb(wasm, code[0], false);
  if (fn >= count) return null;
  let at = first;
  for (let i = 0; i < fn; i++) {
    const [size, body] = leb(wasm, at, false);
    at = body + size;
  }
  at = leb(wasm, at, false)[1]; // body size
  let [groups, p] = leb(wasm, at, false);
  for (; groups > 0; groups--) p = leb(wasm, p, false)[1] + 1; // count, type
  if (wasm[p] !== 0x41) return null; // i32.const
  const [base, q] = leb(wasm, p + 1, true);
  if (wasm[q] !== 0x28) return null; // i32.load
  const align = leb(wasm, q + 1, false);
  const [offset] = leb(wasm, align[1], false);
  return base + offset;
}

export interface PoolSwitch {
  /** Runs `f` with the pool detached (XNNPACK sequential), then puts it back. */
  withoutPool<T>(f: () => T): T;
}

/**
 * A switch for a running threaded module, or null when the binary's layout is not the one
 * expected or the self-check fails. `heap()` returns the current Int32 view of the heap.
 */
export function poolSwitch(slot: number | null, heap: () => Int32Array, threadsCount: () => number, threads: number): PoolSwitch | null {
  if (slot === null || slot % 4 !== 0 || slot <= 0) return null;
  const word = slot / 4;
  const pool = heap()[word]!;
  if (pool === 0 || threadsCount() !== threads) return null;
  heap()[word] = 0;
  const detached = threadsCount();
  heap()[word] = pool;
  if (detached !== -1 || threadsCount() !== threads) return null;
  return {
    withoutPool<T>(f: () => T): T {
      const h = heap();
      if (h[word] === 0) return f(); // nested
      h[word] = 0;
      try {
        return f();
      } finally {
        heap()[word] = pool;
      }
    },
  };
}
