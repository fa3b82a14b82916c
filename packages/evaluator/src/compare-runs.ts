import type { Accuracy } from '@irpo/contracts';
import { fixed, formatAccuracy, markdownTable, pct } from './format.js';
import { readRunData } from './run-data.js';

/** One run's line of the comparison. */
export interface RunComparisonRow {
  run: string;
  dir: string;
  /** Training loss from run.json (`dpo-nll`, `dpo`, ...), when known. */
  loss: string | null;
  /** Last iteration with an eval.json. */
  finalIteration: number | null;
  greedy: Accuracy | null;
  /** maj@k of the final iteration, keyed by k. */
  maj: Record<string, Accuracy>;
  /** Greedy accuracy by iteration number (null where not evaluated). */
  accuracyByIteration: (number | null)[];
  /** logps/chosen and logps/rejected of the last training step logged. */
  lastLogpChosen: number | null;
  lastLogpRejected: number | null;
}

export interface RunComparison {
  rows: RunComparisonRow[];
  markdown: string;
}

/**
 * Compares runs (e.g. DPO+NLL vs DPO vs SFT on chosen) from their run directories: final
 * greedy accuracy and maj@k, accuracy per iteration, and the last chosen/rejected log-probs
 * (which show plain DPO pushing the chosen log-prob down, the paper's Fig. 3).
 */
export async function compareRuns(runDirs: readonly string[]): Promise<RunComparison> {
  const rows: RunComparisonRow[] = [];
  for (const dir of runDirs) {
    const run = await readRunData(dir);
    const evaluated = run.iterations.filter((it) => it.eval);
    const final = evaluated.at(-1);
    const maxIter = run.iterations.reduce((m, it) => Math.max(m, it.iteration), -1);
    const accuracyByIteration: (number | null)[] = Array.from({ length: maxIter + 1 }, () => null);
    for (const it of evaluated) accuracyByIteration[it.iteration] = it.eval!.greedy.accuracy;
    const lastStep = run.iterations
      .filter((it) => it.trainLog.length > 0)
      .at(-1)
      ?.trainLog.at(-1);
    rows.push({
      run: run.name,
      dir,
      loss: run.loss ?? null,
      finalIteration: final?.iteration ?? null,
      greedy: final?.eval?.greedy ?? null,
      maj: final?.eval?.maj ?? {},
      accuracyByIteration,
      lastLogpChosen: lastStep?.['logps/chosen'] ?? null,
      lastLogpRejected: lastStep?.['logps/rejected'] ?? null,
    });
  }
  return { rows, markdown: comparisonMarkdown(rows) };
}

function comparisonMarkdown(rows: RunComparisonRow[]): string {
  const majKs = [...new Set(rows.flatMap((r) => Object.keys(r.maj)))].sort((a, b) => Number(a) - Number(b));
  const iters = rows.reduce((m, r) => Math.max(m, r.accuracyByIteration.length), 0);
  const header = [
    'Run',
    'Training',
    'Final iteration',
    'Greedy [95% CI]',
    ...majKs.map((k) => `maj@${k} [95% CI]`),
    ...Array.from({ length: iters }, (_, t) => `Iter ${t}`),
    'Last log-prob chosen',
    'Last log-prob rejected',
  ];
  const body = rows.map((r) => [
    r.run,
    r.loss ?? '–',
    r.finalIteration === null ? '–' : String(r.finalIteration),
    formatAccuracy(r.greedy ?? undefined),
    ...majKs.map((k) => formatAccuracy(r.maj[k])),
    ...Array.from({ length: iters }, (_, t) => {
      const a = r.accuracyByIteration[t];
      return a === null || a === undefined ? '–' : pct(a);
    }),
    fixed(r.lastLogpChosen ?? undefined),
    fixed(r.lastLogpRejected ?? undefined),
  ]);
  return markdownTable(header, body);
}
