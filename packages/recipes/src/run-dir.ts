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

  private async save(): Promise<void> {
    this.state.updatedAt = new Date().toISOString();
    await writeJsonAtomic(join(this.root, 'state.json'), this.state);
  }

  /**
   * Writes run.json once; a rerun must resolve to the same config (the run directory is the
   * run), else the user is told which field differs.
   */
  async writeRunJson(resolved: Record<string, unknown> & { config: unknown }): Promise<void> {
    const file = this.runJson;
    if (existsSync(file)) {
      const previous = JSON.parse(await readFile(file, 'utf8')) as { config: unknown };
      const diff = firstDifference(previous.config, resolved.config);
      if (diff !== null) {
        throw new InputError(
          file,
          undefined,
          `config.${diff}`,
          'differs from the config this run was started with; use a new run directory (--out) or the original settings',
        );
      }
      return;
    }
    await writeJsonAtomic(file, resolved);
  }
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
