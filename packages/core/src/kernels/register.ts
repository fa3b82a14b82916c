/**
 * Registers core's kernels for `backend` where the stock ones are missing or slow, once.
 * Returns the names of the kernels core provides there.
 */
export function registerCoreKernels(backend: string): string[] {
  void backend;
  return [];
}
