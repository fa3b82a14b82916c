import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '@irpo/contracts';

/**
 * The data file for a split: `path` itself when it is a file, else the first of `candidates`
 * (relative to the directory `path`) that exists. The error lists what was tried.
 */
export function resolveDataFile(path: string, candidates: string[]): string {
  if (!existsSync(path)) throw new InputError(path, undefined, undefined, 'data path not found (pass --path / the `path` option)');
  if (statSync(path).isFile()) return path;
  for (const c of candidates) {
    const full = join(path, c);
    if (existsSync(full) && statSync(full).isFile()) return full;
  }
  throw new InputError(path, undefined, undefined, `no data file for this split; looked for ${candidates.join(', ')}`);
}

/** The data path a task uses: the load option, the task option, else $IRPO_DATA_DIR/<sub>. */
export function dataPath(task: string, loadPath: string | undefined, taskPath: string | undefined, sub: string): string {
  const p = loadPath ?? taskPath ?? (process.env.IRPO_DATA_DIR ? join(process.env.IRPO_DATA_DIR, sub) : undefined);
  if (!p) throw new InputError(task, undefined, 'path', `no data path: pass --path (a ${task} file or directory) or set IRPO_DATA_DIR`);
  return p;
}
