/**
 * Two 128-bit SIMD WebAssembly kernels for decode attention over the host KV cache, assembled
 * here byte by byte (no toolchain needed): plain JavaScript does ~1 ns per multiply-add, these
 * do four lanes at a time. They work on a memory the caller owns (the cache's).
 *
 *   dots(q, k, n, d, out): out[i] = q · k[i·d .. i·d + d) for i < n       (scores)
 *   mix(out, p, v, n, d):  out[0..d) = Σ_{i<n} p[i] · v[i·d .. i·d + d)   (probs · values)
 *
 * q, k, out, p, v are byte offsets into the memory; d (floats) must be a multiple of 4.
 */

// Opcodes (WebAssembly core spec 2.0 and its SIMD proposal).
const I32 = 0x7f,
  V128 = 0x7b;
const BLOCK = 0x02,
  LOOP = 0x03,
  END = 0x0b,
  BR = 0x0c,
  BR_IF = 0x0d,
  VOID = 0x40;
const GET = 0x20,
  SET = 0x21;
const I32_CONST = 0x41,
  I32_GE_U = 0x4f,
  I32_ADD = 0x6a,
  I32_SHL = 0x74;
const F32_LOAD = 0x2a,
  F32_STORE = 0x38,
  F32_ADD = 0x92;
const SIMD = 0xfd;
const V128_LOAD = [SIMD, 0x00, 2, 0],
  V128_STORE = [SIMD, 0x0b, 2, 0];
const V128_ZERO = [SIMD, 0x0c, ...new Array<number>(16).fill(0)];
const F32X4_SPLAT = [SIMD, 0x13],
  F32X4_ADD = [SIMD, 0xe4, 0x01],
  F32X4_MUL = [SIMD, 0xe6, 0x01];
const lane = (i: number) => [SIMD, 0x1f, i];

/** `for (x = 0; x < limit; x += step) body` with x, limit locals. */
function loop(x: number, limit: number, step: number[], body: number[]): number[] {
  return [BLOCK, VOID, LOOP, VOID, GET, x, GET, limit, I32_GE_U, BR_IF, 1, ...body, GET, x, ...step, I32_ADD, SET, x, BR, 0, END, END];
}

const I32_LT_U = 0x49,
  IF = 0x04;
const hsum = (acc: number) => [
  GET,
  acc,
  ...lane(0),
  GET,
  acc,
  ...lane(1),
  F32_ADD,
  GET,
  acc,
  ...lane(2),
  F32_ADD,
  GET,
  acc,
  ...lane(3),
  F32_ADD,
];
/** `while (i + 1 < n) body` (two rows per iteration), then `if (i < n) tail`. */
function pairs(i: number, n: number, body: number[], tail: number[]): number[] {
  return [
    BLOCK,
    VOID,
    LOOP,
    VOID,
    GET,
    i,
    I32_CONST,
    1,
    I32_ADD,
    GET,
    n,
    I32_GE_U,
    BR_IF,
    1,
    ...body,
    GET,
    i,
    I32_CONST,
    2,
    I32_ADD,
    SET,
    i,
    BR,
    0,
    END,
    END,
    GET,
    i,
    GET,
    n,
    I32_LT_U,
    IF,
    VOID,
    ...tail,
    END,
  ];
}

// Locals after the five parameters: i, j, row (i32); a, b, c (v128).
const [LI, LJ, ROW, VA, VB, VC] = [5, 6, 7, 8, 9, 10];

function dotsBody(): number[] {
  const [q, k, n, d, out] = [0, 1, 2, 3, 4];
  const at = (extra: number[]) => [GET, out, GET, LI, ...extra, I32_CONST, 2, I32_SHL, I32_ADD];
  return [
    GET,
    d,
    I32_CONST,
    2,
    I32_SHL,
    SET,
    ROW,
    I32_CONST,
    0,
    SET,
    LI,
    ...pairs(
      LI,
      n,
      [
        // Two key rows per pass share each load of q.
        ...V128_ZERO,
        SET,
        VA,
        ...V128_ZERO,
        SET,
        VB,
        I32_CONST,
        0,
        SET,
        LJ,
        ...loop(
          LJ,
          ROW,
          [I32_CONST, 16],
          [
            GET,
            q,
            GET,
            LJ,
            I32_ADD,
            ...V128_LOAD,
            SET,
            VC,
            GET,
            VA,
            GET,
            VC,
            GET,
            k,
            GET,
            LJ,
            I32_ADD,
            ...V128_LOAD,
            ...F32X4_MUL,
            ...F32X4_ADD,
            SET,
            VA,
            GET,
            VB,
            GET,
            VC,
            GET,
            k,
            GET,
            ROW,
            I32_ADD,
            GET,
            LJ,
            I32_ADD,
            ...V128_LOAD,
            ...F32X4_MUL,
            ...F32X4_ADD,
            SET,
            VB,
          ],
        ),
        ...at([]),
        ...hsum(VA),
        F32_STORE,
        2,
        0,
        ...at([I32_CONST, 1, I32_ADD]),
        ...hsum(VB),
        F32_STORE,
        2,
        0,
        GET,
        k,
        GET,
        ROW,
        I32_CONST,
        1,
        I32_SHL,
        I32_ADD,
        SET,
        k,
      ],
      [
        ...V128_ZERO,
        SET,
        VA,
        I32_CONST,
        0,
        SET,
        LJ,
        ...loop(
          LJ,
          ROW,
          [I32_CONST, 16],
          [GET, VA, GET, q, GET, LJ, I32_ADD, ...V128_LOAD, GET, k, GET, LJ, I32_ADD, ...V128_LOAD, ...F32X4_MUL, ...F32X4_ADD, SET, VA],
        ),
        ...at([]),
        ...hsum(VA),
        F32_STORE,
        2,
        0,
      ],
    ),
    END,
  ];
}

function mixBody(): number[] {
  const [out, p, v, n, d] = [0, 1, 2, 3, 4];
  const splat = (extra: number[]) => [GET, p, GET, LI, ...extra, I32_CONST, 2, I32_SHL, I32_ADD, F32_LOAD, 2, 0, ...F32X4_SPLAT];
  const outJ = [GET, out, GET, LJ, I32_ADD];
  return [
    GET,
    d,
    I32_CONST,
    2,
    I32_SHL,
    SET,
    ROW,
    I32_CONST,
    0,
    SET,
    LJ,
    ...loop(LJ, ROW, [I32_CONST, 16], [...outJ, ...V128_ZERO, ...V128_STORE]),
    I32_CONST,
    0,
    SET,
    LI,
    ...pairs(
      LI,
      n,
      [
        // Two value rows per pass: one load and one store of the output for both.
        ...splat([]),
        SET,
        VA,
        ...splat([I32_CONST, 1, I32_ADD]),
        SET,
        VB,
        I32_CONST,
        0,
        SET,
        LJ,
        ...loop(
          LJ,
          ROW,
          [I32_CONST, 16],
          [
            ...outJ,
            ...outJ,
            ...V128_LOAD,
            GET,
            VA,
            GET,
            v,
            GET,
            LJ,
            I32_ADD,
            ...V128_LOAD,
            ...F32X4_MUL,
            ...F32X4_ADD,
            GET,
            VB,
            GET,
            v,
            GET,
            ROW,
            I32_ADD,
            GET,
            LJ,
            I32_ADD,
            ...V128_LOAD,
            ...F32X4_MUL,
            ...F32X4_ADD,
            ...V128_STORE,
          ],
        ),
        GET,
        v,
        GET,
        ROW,
        I32_CONST,
        1,
        I32_SHL,
        I32_ADD,
        SET,
        v,
      ],
      [
        ...splat([]),
        SET,
        VA,
        I32_CONST,
        0,
        SET,
        LJ,
        ...loop(
          LJ,
          ROW,
          [I32_CONST, 16],
          [...outJ, ...outJ, ...V128_LOAD, GET, VA, GET, v, GET, LJ, I32_ADD, ...V128_LOAD, ...F32X4_MUL, ...F32X4_ADD, ...V128_STORE],
        ),
      ],
    ),
    END,
  ];
}

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

function moduleBytes(): Uint8Array {
  const locals = [...uleb(2), 3, I32, 3, V128]; // i, j, row: i32; three v128
  const fn = (body: number[]) => {
    const all = [...locals, ...body];
    return [...uleb(all.length), ...all];
  };
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32]]), 0]])), // (i32 ×5) → ()
    ...section(2, vec([[...name('env'), ...name('mem'), 0x02, 0x00, 0x01]])), // memory, min 1 page
    ...section(3, vec([[0], [0]])),
    ...section(
      7,
      vec([
        [...name('dots'), 0x00, 0],
        [...name('mix'), 0x00, 1],
      ]),
    ),
    ...section(10, vec([fn(dotsBody()), fn(mixBody())])),
  ]);
}

export interface AttentionKernels {
  dots(q: number, k: number, n: number, d: number, out: number): void;
  mix(out: number, p: number, v: number, n: number, d: number): void;
}

/** The WebAssembly API (Node has it; the project's TypeScript libs do not declare it). */
interface WasmApi {
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

let compiled: object | undefined;

/** A fresh WebAssembly memory of at least `bytes` bytes. */
export function wasmMemory(bytes: number): WasmMemory {
  return new wasm.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
}

/** The kernels bound to `memory` (compiled once per process). */
export function attentionKernels(memory: WasmMemory): AttentionKernels {
  compiled ??= new wasm.Module(moduleBytes());
  return new wasm.Instance(compiled, { env: { mem: memory } }).exports as AttentionKernels;
}
