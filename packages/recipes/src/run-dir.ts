import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, readJsonFile, RunStateSchema, writeJsonAtomic, type RunState, type Stage } from '@irpo/contracts';

/**
 * A recipe's only state: the run directory (layout in ARCHITECTURE.md). Stages read the files of
 * the stage before; state.json records which stages are complete, written atomically after each.
 */
export class RunDir {
  private constructor(
    readonly root: string,
    private state: RunState,
  ) {}

  static async open(root: string): Promise<RunDir> {
    await mkdir(root, { recursive: true });
    const file = join(root, 'state.json');
    const state = existsSync(file) ? await readJsonFile(file, RunStateSchema) : RunStateSchema.parse({});
    return new RunDir(root, state);
  }

  iterDir(t: number): string {
    return join(this.root, `iter-${t}`);
  }

  path(t: number, file: string): string {
    return join(this.iterDir(t), file);
  }

  get runJson(): string {
    return join(this.root, 'run.json');
  }

  isDone(t: number, stage: Stage): boolean {
    return this.state.iterations[String(t)]?.done.includes(stage) ?? false;
  }

  /** Stages done so far, for progress lines and tests. */
  doneStages(t: number): Stage[] {
    return [...(this.state.iterations[String(t)]?.done ?? [])];
  }

  async markDone(t: number, stage: Stage): Promise<void> {
    const key = String(t);
    const entry = this.state.iterations[key] ?? { done: [] };
    if (!entry.done.includes(stage)) entry.done.push(stage);
    this.state.iterations[key] = entry;
    await this.save();
  }

  async markComplete(): Promise<void> {
    this.state.complete = true;
    await this.save();
  }

  get complete(): boolean {
    return this.state.complete;
  }

  /** The model folder engine.endpoints serve as the last engine.reload left them (undefined: M0). */
  get served(): string | undefined {
    return this.state.served;
  }

  async recordServed(modelDir: string): Promise<void> {
    this.state.served = modelDir;
    await this.save();
  }

  private async save(): Promise<void> {
    this.state.updatedAt = new Date().toISOString();
    await writeJsonAtomic(join(this.root, 'state.json'), this.state);
  }

  /**
   * Writes run.json at the first start. A rerun must resolve to the same config (the run directory
   * is the run), except for changes that cannot change what is already on disk: the `engine`
   * block (where samples are drawn, not what they are) and a larger `iterations`. Those are
   * accepted, written to run.json and listed in its `changes`; any other difference is refused
   * naming the field.
   */
  async writeRunJson(resolved: Record<string, unknown> & { config: unknown }): Promise<void> {
    const file = this.runJson;
    if (!existsSync(file)) {
      await writeJsonAtomic(file, resolved);
      return;
    }
    const previous = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown> & { config: unknown; changes?: unknown[] };
    const diffs = allDifferences(previous.config, resolved.config);
    if (diffs.length === 0) return;
    for (const path of diffs) {
      const why = unsafeChange(path, previous.config, resolved.config);
      if (why !== null) throw new InputError(file, undefined, `config.${path}`, why);
    }
    const at = new Date().toISOString();
    const changes = [
      ...(previous.changes ?? []),
      ...diffs.map((path) => ({ at, field: path, from: valueAt(previous.config, path), to: valueAt(resolved.config, path) })),
    ];
    await writeJsonAtomic(file, { ...previous, config: resolved.config, changes });
  }
}

const REFUSED =
  'differs from the config this run was started with, and would change results already on disk; use a new run directory (--out) or the original setting';

/** Why changing `path` on a resumed run is refused, or null when it is safe. */
function unsafeChange(path: string, before: unknown, after: unknown): string | null {
  if (path === 'engine' || path.startsWith('engine.')) return null;
  if (path === 'iterations') {
    const [a, b] = [valueAt(before, path), valueAt(after, path)];
    if (typeof a === 'number' && typeof b === 'number' && b > a) return null;
    return `${REFUSED} (iterations may only grow: ${String(a)} → ${String(b)})`;
  }
  return REFUSED;
}

function valueAt(o: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

/** Dotted paths of every leaf where two JSON values differ (arrays compared whole). */
export function allDifferences(a: unknown, b: unknown, path = ''): string[] {
  if (a === b) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) || Array.isArray(b)) {
    return firstDifference(a, b) === null ? [] : [path || '(root)'];
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys]
    .sort()
    .flatMap((k) => allDifferences((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k));
}

/** Dotted path of the first difference between two JSON values, or null if equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a === b) return null;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return path || '(root)';
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of [...keys].sort()) {
    const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
    if (d !== null) return d;
  }
  return null;
}
