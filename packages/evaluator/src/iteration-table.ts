import { fixed, formatAccuracy } from './format.js';
import type { RunData } from './run-data.js';

/** The per-iteration table of a run report: header and rows of display strings. */
export function iterationTable(run: RunData): { header: string[]; rows: string[][] } {
  const majKs = [...new Set(run.iterations.flatMap((it) => Object.keys(it.eval?.maj ?? {})))].sort((a, b) => Number(a) - Number(b));
  const header = [
    'Iteration',
    'Greedy accuracy [95% CI]',
    ...majKs.map((k) => `maj@${k} [95% CI]`),
    'Pairs',
    'Train steps',
    'Final loss',
    'Final log-prob chosen',
    'Final log-prob rejected',
    'Final margin',
  ];
  const rows = run.iterations.map((it) => {
    const last = it.trainLog.at(-1);
    return [
      String(it.iteration) + (it.eval ? '' : ' (in progress)'),
      formatAccuracy(it.eval?.greedy),
      ...majKs.map((k) => formatAccuracy(it.eval?.maj[k])),
      it.pairs === undefined ? '–' : String(it.pairs),
      it.trainLog.length ? String(it.trainLog.length) : '–',
      fixed(last?.loss, 4),
      fixed(last?.['logps/chosen']),
      fixed(last?.['logps/rejected']),
      fixed(last?.['rewards/margins'], 4),
    ];
  });
  return { header, rows };
}
