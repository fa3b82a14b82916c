import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  DevSelectionSchema,
  EvalReportSchema,
  InputError,
  PreferencePairSchema,
  readJsonFile,
  readJsonlAll,
  SftExampleSchema,
  SftStepMetricsSchema,
  StopRecordSchema,
  TrainLogRecordSchema,
  type DevSelection,
  type EvalReport,
  type StopRecord,
  type TrainLogRecord,
} from '@irpo/contracts';

/** What one iteration directory holds so far; any part may be missing while a run is going. */
export interface IterationData {
  iteration: number;
  eval?: EvalReport;
  /** Lines of pairs.jsonl, when it exists. */
  pairs?: number;
  /** Lines of sft-examples.jsonl (what a supervised baseline trained on), when it exists. */
  sftExamples?: number;
  /** train-log.jsonl; a launched trainer's records may lack metrics it did not log. */
  trainLog: TrainLogRecord[];
  /** Steps logged in sft-log.jsonl (supervised training), when it exists. */
  sftSteps?: number;
  /** dev.json: dev accuracy per scored checkpoint and the one chosen as M(t), when the run has a dev split. */
  dev?: DevSelection;
}

export interface RunData {
  dir: string;
  /** run.json's name, else the folder name. */
  name: string;
  /** Training loss of the run (`dpo-nll`, `dpo`, `sft`...), when run.json says. */
  loss?: string;
  /** run.json as written, when present. */
  config?: Record<string, unknown>;
  iterations: IterationData[];
  /** Why the run ended early (stop.json, written by the stop rule), when it did. */
  stop?: StopRecord;
}

/**
 * Reads a run directory (the layout @irpo/recipes' RunDir writes; see ARCHITECTURE.md). A run
 * still in progress is fine: missing files are skipped and a half-written last line of a JSONL
 * file is ignored.
 */
export async function readRunData(dir: string): Promise<RunData> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch {
    throw new Error(`${dir}: not a readable run directory`);
  }
  const config = entries.includes('run.json') ? await readRunJson(join(dir, 'run.json')) : undefined;
  const iterations: IterationData[] = [];
  for (const entry of entries) {
    const m = /^iter-(\d+)$/.exec(entry);
    if (!m || !(await stat(join(dir, entry))).isDirectory()) continue;
    iterations.push(await readIteration(join(dir, entry), Number(m[1])));
  }
  iterations.sort((a, b) => a.iteration - b.iteration);
  const stop = entries.includes('stop.json') ? await readJsonFile(join(dir, 'stop.json'), StopRecordSchema) : undefined;
  return { dir, name: stringAt(config, ['name']) ?? basename(dir), loss: lossOf(config), config, iterations, ...(stop ? { stop } : {}) };
}

async function readIteration(dir: string, iteration: number): Promise<IterationData> {
  const files = new Set(await readdir(dir));
  const out: IterationData = { iteration, trainLog: [] };
  if (files.has('eval.json')) out.eval = await readJsonFile(join(dir, 'eval.json'), EvalReportSchema);
  if (files.has('pairs.jsonl')) {
    out.pairs = (await readJsonlAll(join(dir, 'pairs.jsonl'), PreferencePairSchema, { tolerateTruncatedTail: true })).length;
  }
  if (files.has('sft-examples.jsonl')) {
    out.sftExamples = (await readJsonlAll(join(dir, 'sft-examples.jsonl'), SftExampleSchema, { tolerateTruncatedTail: true })).length;
  }
  if (files.has('sft-log.jsonl')) {
    out.sftSteps = (await readJsonlAll(join(dir, 'sft-log.jsonl'), SftStepMetricsSchema, { tolerateTruncatedTail: true })).length;
  }
  if (files.has('dev.json')) out.dev = await readJsonFile(join(dir, 'dev.json'), DevSelectionSchema);
  if (files.has('train-log.jsonl')) {
    out.trainLog = await readJsonlAll(join(dir, 'train-log.jsonl'), TrainLogRecordSchema, { tolerateTruncatedTail: true });
  }
  return out;
}

function stringAt(obj: unknown, path: string[]): string | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return typeof cur === 'string' ? cur : undefined;
}

/** run.json may hold the RunConfig itself or wrap it as `config`; a recipe may name itself. */
function lossOf(config: Record<string, unknown> | undefined): string | undefined {
  return stringAt(config, ['recipe']) ?? stringAt(config, ['training', 'loss']) ?? stringAt(config, ['config', 'training', 'loss']);
}

/** run.json's shape belongs to the recipes; the report only needs a few fields, read loosely. */
async function readRunJson(file: string): Promise<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new InputError(file, undefined, undefined, `not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new InputError(file, undefined, undefined, 'expected a JSON object');
  return json as Record<string, unknown>;
}
