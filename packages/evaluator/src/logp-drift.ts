import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readJsonlAll, TrainLogRecordSchema, type TrainLogRecord } from '@irpo/contracts';

/** How one run's chosen and rejected log-probs moved during iteration 1's training. */
export interface LogpDrift {
  run: string;
  steps: number;
  chosenStart: number;
  chosenEnd: number;
  rejectedStart: number;
  rejectedEnd: number;
}

/**
 * How the chosen and rejected log-probs moved over one preference training log: the mean of the
 * first quarter of the steps (at least one step) against the mean of the last quarter. Null for
 * a log without log-probs.
 */
export function driftOf(all: readonly TrainLogRecord[]): Omit<LogpDrift, 'run'> | null {
  // Steps of a launched trainer that logged no log-probs do not count (absent is not 0).
  const log = all.filter((r) => r['logps/chosen'] !== undefined && r['logps/rejected'] !== undefined);
  if (log.length === 0) return null;
  const q = Math.max(1, Math.floor(log.length / 4));
  const mean = (xs: readonly TrainLogRecord[], k: 'logps/chosen' | 'logps/rejected') => xs.reduce((a, r) => a + r[k]!, 0) / xs.length;
  const [head, tail] = [log.slice(0, q), log.slice(-q)];
  return {
    steps: log.length,
    chosenStart: mean(head, 'logps/chosen'),
    chosenEnd: mean(tail, 'logps/chosen'),
    rejectedStart: mean(head, 'logps/rejected'),
    rejectedEnd: mean(tail, 'logps/rejected'),
  };
}

/**
 * How the chosen and rejected log-probs moved during iteration 1's preference training (mean
 * of the first vs the last quarter of steps, read from iter-1/train-log.jsonl): the paper's
 * Fig. 3 view, where DPO without the NLL term lowers the chosen log-probs too. Runs without a
 * preference training log (SFT baselines) are left out.
 */
export async function logpDrift(dirs: Record<string, string>): Promise<{ rows: LogpDrift[]; markdown: string }> {
  const rows: LogpDrift[] = [];
  for (const [run, dir] of Object.entries(dirs)) {
    const file = join(dir, 'iter-1', 'train-log.jsonl');
    if (!existsSync(file)) continue;
    const drift = driftOf(await readJsonlAll(file, TrainLogRecordSchema));
    if (drift) rows.push({ run, ...drift });
  }
  const f = (x: number) => x.toFixed(2);
  const markdown = [
    'Log-probs of chosen and rejected answers during iteration 1 (mean of the first → last quarter of training steps):',
    '',
    '| Run | Steps | log π(chosen) | log π(rejected) |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.run} | ${r.steps} | ${f(r.chosenStart)} → ${f(r.chosenEnd)} | ${f(r.rejectedStart)} → ${f(r.rejectedEnd)} |`),
  ].join('\n');
  return { rows, markdown };
}
