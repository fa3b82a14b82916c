/**
 * A clear error when the wasm heap is full. tfjs allocates every tensor with the module's
 * `_malloc` and uses whatever it returns: a failed allocation returns 0, and the tensor is then
 * written over the bottom of the heap. The single-threaded binary happens to abort soon after
 * ("Aborted()"); the threaded one corrupted its thread pool and hung (measured: a language
 * model's train step too large for the heap never returned). So `_malloc` is replaced by one that throws.
 */

/** The wasm heap could not hold a new tensor. */
export class WasmHeapError extends Error {
  override readonly name = 'WasmHeapError';
}

/** The parts of the Emscripten module the guard touches. */
export interface HeapModule {
  _malloc: (bytes: number) => number;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
}

/** What WasmHeapError's message suggests unless the caller names its own remedies. */
export const DEFAULT_HEAP_FULL_HINT = 'Use smaller batches, or the tensorflow backend (@tensorflow/tfjs-node)';

const GUARDED = Symbol('tfjs-wasm-node.heapGuard');

type GuardedMalloc = ((bytes: number) => number) & { [GUARDED]?: { hint: string } };

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

/**
 * Makes the module's `_malloc` throw WasmHeapError instead of returning 0; `hint` (the remedies
 * for the caller's users) ends the error's message. Calling it again only replaces the hint, when
 * one is given. False if it cannot (the module exposes no raw `malloc` export).
 */
export function guardWasmMalloc(module: HeapModule, hint?: string): boolean {
  const raw = module.asm?.malloc;
  if (typeof raw !== 'function') return false;
  const guarded = module._malloc as GuardedMalloc;
  if (guarded[GUARDED]) {
    if (hint !== undefined) guarded[GUARDED].hint = hint;
    return true;
  }
  const state = { hint: hint ?? DEFAULT_HEAP_FULL_HINT };
  // The raw export, not module._malloc: Emscripten's stub replaces itself by the raw export on
  // its first call, which would drop a wrapper around it.
  const malloc: GuardedMalloc = Object.assign(
    (bytes: number): number => {
      const at = raw(bytes);
      if (at === 0 && bytes > 0) {
        throw new WasmHeapError(
          `the wasm heap is full: a ${mb(bytes)} tensor did not fit in its ${mb(module.HEAPU8.length)} ` +
            `(wasm memory stops at 4 GiB). ${state.hint}`,
        );
      }
      return at;
    },
    { [GUARDED]: state },
  );
  module._malloc = malloc;
  return true;
}
