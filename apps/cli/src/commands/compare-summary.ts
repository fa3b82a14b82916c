import type { MethodRow } from '@irpo/evaluator';

/** What `--compare` prints at the end: the method × iteration table and where its files are. */
export function printCompareTable(r: { rows: readonly MethodRow[]; files: readonly string[] }, took: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const width = Math.max(6, ...r.rows.map((row) => row.label.length));
  const lines = r.rows.map((row) => {
    const g = row.greedy;
    const acc = g ? `${pct(g.accuracy).padStart(6)}  [${pct(g.ci95[0])}, ${pct(g.ci95[1])}]  ${g.correct}/${g.total}` : '     –';
    const maj = g
      ? Object.entries(row.maj)
          .map(([k, a]) => `  maj@${k} ${pct(a.accuracy)}`)
          .join('')
      : '';
    const drift = row.drift ? `  log π(chosen) ${row.drift.chosenStart.toFixed(2)} → ${row.drift.chosenEnd.toFixed(2)}` : '';
    return `  ${row.label.padEnd(width)}  ${String(row.iteration).padStart(4)}  ${acc}${maj}${drift}`;
  });
  return [
    '',
    'Greedy accuracy on the test split, by method and iteration',
    `  ${'method'.padEnd(width)}  iter  greedy  [95% CI]            correct`,
    ...lines,
    '',
    `Table: ${r.files.join(', ')}  (${took})`,
  ].join('\n');
}
