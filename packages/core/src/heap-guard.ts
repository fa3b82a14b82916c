/**
 * A clear error when the wasm heap is full. tfjs allocates every tensor with the module's
 * `_malloc` and uses whatever it returns: a failed allocation returns 0, and the tensor is then
 * written over the bottom of the heap. The single-threaded binary happens to abort soon after
 * ("Aborted()"); the threaded one corrupted its thread pool and hung (measured: small's train
 * step with all 16 rows at once never returned). So `_malloc` is replaced by one that throws.
 */

/** The wasm heap could not hold a new tensor. */
export class WasmHeapError extends Error {
  override readonly name = 'WasmHeapError';
}

interface HeapModule {
  _malloc: (bytes: number) => number;
  asm?: { malloc?: (bytes: number) => number };
  HEAPU8: Uint8Array;
}

const GUARDED = Symbol('irpo.heapGuard');

const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;

/** Makes the module's `_malloc` throw WasmHeapError instead of returning 0. False if it cannot. */
export function guardWasmMalloc(module: HeapModule): boolean {
  const raw = module.asm?.malloc;
  if (typeof raw !== 'function') return false;
  const guarded = module._malloc as ((bytes: number) => number) & { [GUARDED]?: true };
  if (guarded[GUARDED]) return true;
  // The raw export, not module._malloc: Emscripten's stub replaces itself by the raw export on
  // its first call, which would drop a wrapper around it.
  const malloc = Object.assign(
    (bytes: number): number => {
      const at = raw(bytes);
      if (at === 0 && bytes > 0) {
        throw new WasmHeapError(
          `the wasm heap is full: a ${mb(bytes)} tensor did not fit in its ${mb(module.HEAPU8.length)} ` +
            `(wasm memory stops at 4 GiB). Use smaller batches (training.batchSize with training.gradAccum for the same ` +
            `effective batch, engine.batchSize), training.gradientCheckpointing: true, or the tensorflow backend (tfjs-node)`,
        );
      }
      return at;
    },
    { [GUARDED]: true as const },
  );
  module._malloc = malloc;
  return true;
}
