import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fieldPath, InputError, refuseIneffectiveSettings, RunConfigSchema, UsageError, type RunConfig } from '@irpo/contracts';
import { parse as parseYaml } from 'yaml';

/**
 * Reads a run config (YAML or JSON), applies `--set key.path=value` overrides, and validates it
 * with the RunConfig schema: unknown keys, bad values and settings that would do nothing in this
 * run (training.alpha with loss ipo, ...) fail naming the file and field.
 */
export async function loadRunConfig(file: string | undefined, sets: readonly string[] = []): Promise<RunConfig> {
  let raw: unknown = {};
  // A resolved config (run.json) holds every default as if written: only --set counts as written.
  let resolved = false;
  if (file) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new InputError(file, undefined, undefined, 'config file not found or unreadable');
    }
    try {
      raw = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    } catch (e) {
      throw new InputError(
        file,
        lineOf(e),
        undefined,
        `not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message.split('\n')[0]}`,
      );
    }
    if (raw === null || raw === undefined) raw = {};
    // A run's run.json: the resolved config under `config`, beside the recipe that ran it.
    if (isRunJson(raw)) {
      raw = raw.config;
      resolved = true;
    }
  }
  for (const set of sets) applySet(raw as Record<string, unknown>, set);
  const result = RunConfigSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    let field = fieldPath(issue.path);
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      field = [fieldPath(issue.path), keys[0]].filter((x) => x && x !== '(record)').join('.');
      message = `unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => `"${k}"`).join(', ')}`;
    }
    throw new InputError(file ?? '--set', undefined, field, message);
  }
  const written: Record<string, unknown> = {};
  if (resolved) for (const set of sets) applySet(written, set);
  refuseIneffectiveSettings(resolved ? written : raw, result.data, file ?? '--set');
  return result.data;
}

/** `a.b.c=value`: value parsed as JSON when it parses (numbers, booleans, arrays), else a string. */
export function applySet(target: Record<string, unknown>, set: string): void {
  const eq = set.indexOf('=');
  if (eq <= 0) throw new UsageError(`--set expects key=value, got "${set}"`);
  const path = set.slice(0, eq).split('.');
  const text = set.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = text;
  }
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function lineOf(e: unknown): number | undefined {
  const pos = (e as { linePos?: Array<{ line: number }> }).linePos;
  return pos?.[0]?.line;
}

function isRunJson(raw: unknown): raw is { config: Record<string, unknown> } {
  const r = raw as { config?: unknown; recipe?: unknown };
  return typeof r === 'object' && r !== null && typeof r.recipe === 'string' && typeof r.config === 'object' && r.config !== null;
}
