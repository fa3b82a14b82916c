import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, readJsonlAll, TrainLogRecordSchema, writeJsonlAtomic, type TrainLogRecord } from '@irpo/contracts';

/**
 * A launched trainer's metrics as train-log.jsonl records, so `irpo report` charts them. Read,
 * in this order, from the first that exists:
 * - `{out}/train-log.jsonl`: irpo's own records (`irpo train` as the trainer);
 * - `{out}/metrics.jsonl`: one JSON object per line, under TRL's or irpo's names (any trainer
 *   can append such lines);
 * - `trainer_state.json` (`{out}` or its newest checkpoint-N): the `log_history` of a Hugging Face
 *   Trainer (TRL).
 * A metric the trainer did not log is left out of the record, never written as 0. Returns the
 * records and the file they came from (none: no records).
 */
export async function readTrainerMetrics(out: string): Promise<{ records: TrainLogRecord[]; source?: string }> {
  const own = join(out, 'train-log.jsonl');
  if (existsSync(own)) return { records: await readJsonlAll(own, TrainLogRecordSchema), source: own };
  const lines = join(out, 'metrics.jsonl');
  if (existsSync(lines)) return { records: await fromJsonLines(lines), source: lines };
  const state = await newestTrainerState(out);
  if (state) return { records: await fromTrainerState(state), source: state };
  return { records: [] };
}

/** Reads the metrics and writes them to `file` (atomically); writes nothing when there are none. */
export async function collectTrainerMetrics(out: string, file: string): Promise<{ records: number; source?: string }> {
  const { records, source } = await readTrainerMetrics(out);
  if (records.length > 0) await writeJsonlAtomic(file, records);
  return { records: records.length, source };
}

/** Trainer log keys → train-log.jsonl fields (TRL/transformers names; irpo's own map to themselves). */
const NAMES: Record<string, string> = {
  step: 'step',
  epoch: 'epoch',
  loss: 'loss',
  grad_norm: 'grad_norm',
  learning_rate: 'lr',
  lr: 'lr',
  dpo: 'dpo',
  nll: 'nll',
  nll_loss: 'nll',
  'rewards/chosen': 'rewards/chosen',
  'rewards/rejected': 'rewards/rejected',
  'rewards/margins': 'rewards/margins',
  'rewards/accuracies': 'rewards/accuracies',
  'logps/chosen': 'logps/chosen',
  'logps/rejected': 'logps/rejected',
  tokens_per_s: 'tokens_per_s',
};

/** One logged object as a record: known names mapped, finite numbers only; undefined without a training metric. */
export function metricsRecord(entry: Record<string, unknown>, fallbackStep: number): TrainLogRecord | undefined {
  const r: Record<string, number> = {};
  for (const [key, value] of Object.entries(entry)) {
    const field = NAMES[key];
    if (field && typeof value === 'number' && Number.isFinite(value)) r[field] = value;
  }
  const metrics = Object.keys(r).filter((k) => k !== 'step' && k !== 'epoch');
  if (metrics.length === 0) return undefined; // an eval entry, or the run summary
  const parsed = TrainLogRecordSchema.safeParse({ v: 1, ...r, step: r.step ?? fallbackStep });
  return parsed.success ? parsed.data : undefined;
}

async function fromJsonLines(file: string): Promise<TrainLogRecord[]> {
  const records: TrainLogRecord[] = [];
  const lines = (await readFile(file, 'utf8')).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!.trim();
    if (text === '') continue;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      if (i === lines.length - 1) break; // a line the trainer was still writing
      throw new InputError(file, i + 1, undefined, 'not a JSON object');
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new InputError(file, i + 1, undefined, 'not a JSON object');
    const r = metricsRecord(entry as Record<string, unknown>, records.length + 1);
    if (r) records.push(r);
  }
  return records;
}

async function fromTrainerState(file: string): Promise<TrainLogRecord[]> {
  let state: { log_history?: unknown };
  try {
    state = JSON.parse(await readFile(file, 'utf8')) as typeof state;
  } catch (e) {
    throw new InputError(file, undefined, undefined, `invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(state.log_history)) throw new InputError(file, undefined, 'log_history', 'missing or not a list');
  const records: TrainLogRecord[] = [];
  for (const entry of state.log_history) {
    if (typeof entry !== 'object' || entry === null) continue;
    const r = metricsRecord(entry as Record<string, unknown>, records.length + 1);
    if (r) records.push(r);
  }
  return records;
}

/** `{out}/trainer_state.json`, else that of the checkpoint-N with the largest N. */
async function newestTrainerState(out: string): Promise<string | undefined> {
  const top = join(out, 'trainer_state.json');
  if (existsSync(top)) return top;
  const checkpoints = (await readdir(out, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isDirectory() && /^checkpoint-\d+$/.test(e.name) && existsSync(join(out, e.name, 'trainer_state.json')))
    .map((e) => ({ name: e.name, n: Number(e.name.slice('checkpoint-'.length)) }))
    .sort((a, b) => b.n - a.n);
  return checkpoints[0] ? join(out, checkpoints[0].name, 'trainer_state.json') : undefined;
}
