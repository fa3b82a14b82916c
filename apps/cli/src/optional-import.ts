/**
 * Imports a workspace package by a name TypeScript does not resolve at build time, for
 * commands whose providers land in other packages (`loadModel` in @irpo/model, `getTask` in
 * @irpo/data). A missing export is reported as what it is.
 */
export async function importExport<T>(pkg: string, name: string): Promise<T> {
  const mod = (await import(pkg)) as Record<string, unknown>;
  if (mod[name] === undefined) throw new Error(`${pkg} does not export ${name} in this build`);
  return mod[name] as T;
}
